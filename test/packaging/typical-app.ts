// The TypeScript side of the Python and Java comparisons: the typical stack that the construct
// tests use (a Fargate service behind an ALB, wrapped by a FastAutoscaler with a topic),
// synthesized to a template, and the message that bad props (maxTasks: 0) raise.
// Usage: ts-node typical-app.ts <template.json> <bad-props-message.txt>
import * as fs from 'fs';
import { typicalStack } from '../support/typical-stack';

const [templateFile, messageFile] = process.argv.slice(2);
if (!templateFile || !messageFile) throw new Error('usage: typical-app.ts <template.json> <bad-props-message.txt>');

const { app, stack } = typicalStack({ withTopic: true });
const template = app.synth().getStackArtifact(stack.artifactId).template;
fs.writeFileSync(templateFile, JSON.stringify(template, undefined, 1));

let message: string | undefined;
try {
  typicalStack({ withTopic: true, props: { maxTasks: 0 } });
} catch (e) {
  message = (e as Error).message;
}
if (!message) throw new Error('maxTasks: 0 was accepted');
fs.writeFileSync(messageFile, message);
console.log(`typical-app: ${Object.keys(template.Resources).length} resources; maxTasks: 0 -> ${JSON.stringify(message)}`);
