// `npm start`: the local runtime entry point. The full pipeline on embedded emulators (API,
// topics, queues, handlers, tables) is the next issue; until it lands this says so plainly
// rather than pretending, and points at what works today.
const message = `payments-backbone: the local runtime (\`npm start\`) is not built yet.

What works today:
  npm test              typecheck, lint, and the full suite against DynamoDB Local + fauxqs
  npx cdk synth         synthesize the AWS stack (cdk-nag AwsSolutions checks on)
  npx cdk deploy        deploy it to an AWS account

Coming next: \`npm start\` brings up the whole pipeline locally on embedded emulators.
`;
process.stdout.write(message);
process.exitCode = 1;
