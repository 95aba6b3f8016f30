// Alert severity from the summed weights of the rules a transfer hit. Thresholds are data: the
// weight table in rules.ts and these floors together say how alarming a combination is.

export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The least total weight for each severity; below LOW's floor nothing is raised. */
export const SEVERITY_FLOORS: Readonly<Record<Severity, number>> = { LOW: 10, MEDIUM: 30, HIGH: 60, CRITICAL: 100 };

export function severityOf(totalWeight: number): Severity | undefined {
  if (!Number.isInteger(totalWeight) || totalWeight < 0) throw new RangeError(`weight must be a non-negative integer, got ${totalWeight}`);
  let found: Severity | undefined;
  for (const severity of SEVERITIES) if (totalWeight >= SEVERITY_FLOORS[severity]) found = severity;
  return found;
}

export function isAtLeast(severity: Severity, floor: Severity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(floor);
}
