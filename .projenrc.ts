import { awscdk, javascript } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-fast-autoscaler',
  description:
    'Scale an ECS Fargate service out within seconds of a traffic surge: an nginx sidecar reports connections, a 3-second control loop acts.',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'ecs', 'fargate', 'autoscaling', 'nginx', 'step-functions'],
  author: 'cdk-fast-autoscaler developers',
  authorAddress: 'maintainers@cdk-fast-autoscaler.dev',
  repositoryUrl: 'https://github.com/cdk-fast-autoscaler/cdk-fast-autoscaler.git',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  // A current aws-cdk-lib is the peer floor (cdk-nag 3, used by the example, needs it too).
  cdkVersion: '2.257.0',
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  // TypeScript 7 (the Go port) changes the compiler API that ts-jest and eslint rely on.
  typescriptVersion: '~6.0.3',
  tsconfigDevFile: 'tsconfig.dev.json',
  tsconfigDev: { include: ['**/*.ts', '.projenrc.ts'], compilerOptions: {} },

  publishToPypi: {
    distName: 'cdk-fast-autoscaler',
    module: 'cdk_fast_autoscaler',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkfastautoscaler',
    mavenGroupId: 'io.github.cdk-fast-autoscaler',
    mavenArtifactId: 'cdk-fast-autoscaler',
  },

  // The controller Lambda: Node.js 22 pinned so that snapshots never churn with the
  // "latest" runtime; the AWS SDK v3 ships with the runtime and stays external.
  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_22_X,
    bundlingOptions: {
      sourcemap: false,
    },
  },

  devDeps: [
    '@types/node@^20',
    '@aws-sdk/client-ecs@^3',
    '@aws-sdk/client-dynamodb@^3',
    '@aws-sdk/client-sns@^3',
    '@aws-sdk/client-sfn@^3',
    '@aws-lambda-powertools/metrics@^2',
    '@aws-lambda-powertools/logger@^2',
    'aws-sdk-client-mock@^4',
    'fast-check@^4',
    'dynalite@^4',
    'aws-local-stepfunctions@^3',
    'autocannon@^8 || ^9',
    '@types/autocannon',
    'cdk-nag@^3',
    'aws-cdk@^2',
    'vega@^6',
    'vega-lite@^6',
  ],

  jestOptions: {
    updateSnapshot: UpdateSnapshot.NEVER,
    jestConfig: {
      // End-to-end tests start real nginx processes; give them room on a busy 2-core box.
      testTimeout: 120_000,
      // Every AWS client without its own loopback endpoint fails instead of reaching AWS.
      setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/test/support/'],
      maxWorkers: 2,
    },
  },

  gitignore: ['/.ci/.node22/', '/.tmp/', '/bench/out/', '/examples/local-demo/out/', '/cdk.out/', '/examples/**/cdk.out/'],

  // One dev tsconfig at the root covers src, test, examples and bench for linting.
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'build-tools', 'projenrc', '.projenrc.ts'],
    tsconfigPath: './tsconfig.dev.json',
    projectService: false,
  },

  githubOptions: { mergify: false },
  sampleCode: false,
});

// The controller is bundled by esbuild (the AWS SDK comes with the Lambda runtime), so its
// imports are build-time dependencies, not the library's.
project.eslint?.addOverride({
  files: ['src/controller/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: true }] },
});

// Checks that need the packed tarball or tools outside jest; `CI=true npx projen build`
// runs them after package:js.
const examplesTask = project.addTask('test:examples', {
  description: 'Synthesizes examples/php-demo with the cdk CLI, offline (cdk-nag AwsSolutions runs on every synth)',
  cwd: 'examples/php-demo',
  exec: 'npx cdk synth --no-notices -q -o ../../.tmp/php-demo.out',
});
const installedTask = project.addTask('test:installed', {
  description: 'Installs the packed tarball into a fresh CDK app and synthesizes a stack',
  exec: 'bash test/packaging/installed-app.sh',
});
const bindingsTask = project.addTask('test:bindings', {
  description: 'Generates the Python and Java bindings; builds and checks the wheel; parse-checks the Java sources',
  exec: 'bash test/packaging/bindings.sh',
});
project.packageTask.spawn(examplesTask);
project.packageTask.spawn(installedTask);
project.packageTask.spawn(bindingsTask);

for (const pattern of ['/examples/', '/bench/', '/.ci/', '/.tmp/']) {
  project.addPackageIgnore(pattern);
}

project.synth();
