import { Template } from 'aws-cdk-lib/assertions';
import { controllerFunction } from './support/template-lookups';
import { typicalStack } from './support/typical-stack';
import { defaultControllerMemoryMb } from '../src/loop/controller-memory';

/** The controller function's memory in a synthesized typical stack. */
function controllerMemory(props: Parameters<typeof typicalStack>[0]): number {
  return controllerFunction(Template.fromStack(typicalStack(props).stack)).Properties.MemorySize;
}

describe('the controller\'s memory (its CPU share)', () => {
  test.each([
    [50, 256], [200, 256], [201, 512], [1000, 512], [2500, 1024], [2501, 1769], [5000, 1769],
  ])('maxTasks %i: %i MB by default', (maxTasks, memory) => {
    expect(defaultControllerMemoryMb(maxTasks)).toBe(memory);
    expect(controllerMemory({ props: { maxTasks } })).toBe(memory);
  });

  test('a prop overrides it', () => {
    expect(controllerMemory({ props: { maxTasks: 5000, controllerMemorySize: 3008 } })).toBe(3008);
  });

  test.each([[64], [10241], [300.5]])('rejects %p MB, naming the prop and the range', memory => {
    expect(() => typicalStack({ props: { controllerMemorySize: memory } })).toThrow(
      `\`controllerMemorySize\` must be a whole number from 128 to 10240, got ${memory}`,
    );
  });
});
