// The API's errors as RFC 9457 application/problem+json: operations throw ApiProblem with a type
// from the catalogue (contract/problems.ts: type -> HTTP status and title); nothing else picks
// statuses.

import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, PROBLEM_TYPES, type ProblemType } from '../../contract/problems.js';

// The catalogue is part of the contract the stack's gateway responses share (contract/problems.ts).
export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, PROBLEM_TYPES, type ProblemType };

/** A JSON Pointer (RFC 6901) to an offending field and what is wrong with it. */
export interface FieldError {
  readonly pointer: string;
  readonly detail: string;
}

export interface ProblemExtensions {
  readonly errors?: readonly FieldError[];
  readonly transactionId?: string;
  readonly rejectionReason?: string;
  readonly allowedMethods?: readonly string[];
}

export class ApiProblem extends Error {
  override name = 'ApiProblem';
  readonly type: ProblemType;
  readonly detail: string;
  readonly extensions: ProblemExtensions;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    type: ProblemType,
    detail: string,
    extensions: ProblemExtensions = {},
    headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(`${type}: ${detail}`, options);
    this.type = type;
    this.detail = detail;
    this.extensions = extensions;
    this.headers = headers;
  }

  get status(): number {
    return PROBLEM_TYPES[this.type].status;
  }
}

export interface ProblemDocument extends ProblemExtensions {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
}

export function problemDocument(problem: ApiProblem, instance?: string): ProblemDocument {
  const { status, title } = PROBLEM_TYPES[problem.type];
  return {
    type: `${PROBLEM_TYPE_BASE}${problem.type}`,
    title,
    status,
    detail: problem.detail,
    ...(instance !== undefined ? { instance } : {}),
    ...problem.extensions,
  };
}
