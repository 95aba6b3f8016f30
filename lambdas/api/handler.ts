// Placeholder entry so CDK bundling has a file to build while the handler is written; replaced before commit.
export const handler = (): Promise<never> => Promise.reject(new Error('handler not built yet'));
