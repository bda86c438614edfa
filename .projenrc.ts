import { awscdk, javascript, TaskShell } from 'projen';
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
  // What is true today: the API may still change in any release.
  stability: 'experimental',
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
    '@aws-sdk/client-sqs@^3',
    '@aws-sdk/client-ssm@^3',
    '@aws-sdk/client-sts@^3',
    '@aws-sdk/client-sfn@^3',
    '@aws-lambda-powertools/metrics@^2',
    '@aws-lambda-powertools/logger@^2',
    'aws-sdk-client-mock@^4',
    'fast-check@^4',
    'dynalite@^4',
    // A real Prometheus exposition for the Prometheus source's tests.
    'prom-client@^15',
    'aws-local-stepfunctions@^3',
    'autocannon@^8 || ^9',
    '@types/autocannon',
    'cdk-nag@^3',
    // The import-graph check (test:imports): no circles, the controller apart from the construct side.
    'dependency-cruiser@^17',
    'aws-cdk@^2',
    'vega@^6',
    'vega-lite@^6',
    // The real-account test (test/integ). The alpha matching aws-cdk-lib 2.257 is not on the
    // registry this project installs from; 2.245's peer range (^2.245.0) covers 2.257.
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
    '@aws-cdk/integ-runner@^2.197.10',
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

  gitignore: [
    '/.ci/.node22/', '/.ci/.moto/', '/.ci/.checkov/', '/.tmp/', '/bench/out/', '/examples/local-demo/out/', '/cdk.out/', '/examples/**/cdk.out/',
    '/examples/java-app/target/', '__pycache__/',
  ],

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

// The README's TypeScript snippets compile (jsii-rosetta, with rosetta/default.ts-fixture), as
// cdklabs libraries check them; the tablet it writes gives jsii-pacmak and Construct Hub their
// Python and Java renderings.
const rosettaTask = project.addTask('rosetta:extract', {
  description: 'Compiles every TypeScript snippet of the README (and doc comments) with jsii-rosetta --strict',
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(rosettaTask);
project.gitignore.exclude('/.jsii.tabl.json');
// A git worktree may link these to another checkout's: ignore the links too (a pattern with a
// trailing slash matches only a directory), so that no commit ever tracks one.
project.gitignore.exclude('/node_modules', '/.ci/.node22', '/.ci/.moto', '/.ci/.checkov');

// --- docs/ snippets (issue 24) -------------------------------------------------------------------
// Every TypeScript snippet of the pages in docs/ compiles too, like the README's: jsii-rosetta with the
// same fixture and dependencies, strict, failing on any diagnostic. jsii-rosetta's CLI reads snippets
// only from assemblies, so projenrc/docs-snippets.ts hands it each page as a submodule README of the
// compiled .jsii (writing no tablet). Runs after rosetta:extract.
const docsSnippetsTask = project.addTask('docs:snippets', {
  description: 'Compiles every TypeScript snippet of docs/*.md with jsii-rosetta (strict, rosetta/default.ts-fixture)',
  exec: 'ts-node -P tsconfig.dev.json projenrc/docs-snippets.ts',
});
project.postCompileTask.spawn(docsSnippetsTask);
// --- end of docs/ snippets -----------------------------------------------------------------------

// The import graph (.dependency-cruiser.cjs): no circle, type-only imports included; the
// controller apart from the construct side; the pure decision free of the SDK.
const importsTask = project.addTask('test:imports', {
  description: 'Checks the import graph of src/ with dependency-cruiser (.dependency-cruiser.cjs)',
  exec: 'depcruise src --config .dependency-cruiser.cjs',
});
project.testTask.spawn(importsTask);

// API.md is what jsii-docgen writes (post-compile, before the tests): a committed copy that differs
// documents props that are not there, or misses new ones. Skipped outside a git checkout (a tarball).
const apiDocsTask = project.addTask('test:api-docs', {
  description: 'Fails when the committed API.md differs from what jsii-docgen generated in this build',
  exec: 'if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && ! git diff --quiet -- API.md; then '
    + 'echo "API.md differs from what jsii-docgen generates: commit the regenerated API.md"; git --no-pager diff --stat -- API.md; exit 1; fi',
  shell: TaskShell.sh(),
});
project.testTask.spawn(apiDocsTask);

// Checks on what the build packs, run after packaging: tools outside jest and the artifacts.
const examplesTask = project.addTask('test:examples', {
  description: 'Synthesizes examples/php-demo with the cdk CLI, offline (cdk-nag AwsSolutions fails the synth on a finding)',
  cwd: 'examples/php-demo',
  exec: 'npx cdk synth --no-notices -q -o ../../.tmp/php-demo.out',
});
const installedTask = project.addTask('test:installed', {
  description: 'Installs the packed tarball into a fresh CDK app and synthesizes a stack',
  exec: 'bash test/packaging/installed-app.sh',
});
const referenceTask = project.addTask('test:reference', {
  description: 'Synthesizes the TypeScript typical app: the template the Python and Java apps must equal',
  exec: 'bash test/packaging/reference.sh',
});
const pythonTask = project.addTask('test:python', {
  description: 'Installs the wheel from dist/python with aws-cdk-lib from PyPI; examples/python-app must equal the TypeScript app',
  exec: 'bash test/packaging/python-app.sh',
});
const javaTask = project.addTask('test:java', {
  description: 'Builds examples/java-app against dist/java and aws-cdk-lib from Maven Central; it must equal the TypeScript app',
  exec: 'bash test/packaging/java-app.sh',
});
const cfnLintTask = project.addTask('test:cfn-lint', {
  description: 'cfn-lint on every synthesized template (TypeScript, Python and Java apps, php-demo, the installed tarball)',
  exec: 'bash test/packaging/cfn-lint.sh',
});

// The build packages every language, in CI too (projen's default packs only js there and
// leaves the others to separate workflow jobs): the README's test command must leave dist/js,
// dist/python and dist/java, and prove them installed.
const packageAllTask = project.tasks.tryFind('package-all')!;
project.packageTask.reset();
project.packageTask.spawn(packageAllTask);
for (const task of [examplesTask, installedTask, referenceTask, pythonTask, javaTask, cfnLintTask]) {
  project.packageTask.spawn(task);
}

// No comments naming node_modules paths in the controller's bundle: its hash (in every
// snapshot) must not depend on where node_modules lives (a symlink, a workspace).
project.tasks.tryFind('bundle:controller/tick.lambda')?.reset(
  'esbuild --bundle src/controller/tick.lambda.ts --target=node22 --platform=node --outfile=assets/controller/tick.lambda/index.js '
  + "--tsconfig=tsconfig.dev.json '--external:@aws-sdk/*' --minify-whitespace",
);

// The rosetta fixture and tablet ship, so that Construct Hub can render the README's snippets in Python and Java.
for (const pattern of ['/examples/', '/bench/', '/.ci/', '/.tmp/']) {
  project.addPackageIgnore(pattern);
}

// The real-account test (test/integ, @aws-cdk/integ-tests-alpha run by integ-runner). The build
// only checks, offline and without credentials, that the app still synthesizes to the committed
// snapshot (integ-runner's snapshot comparison deploys nothing); cdk-nag runs on that synth too.
// Someone with credentials proves the loop on a real account with the deploy task.
const integRunner = 'integ-runner --directory test/integ --language typescript --app "ts-node -P tsconfig.dev.json {filePath}"';
const integAssertTask = project.addTask('integ:fast-autoscaler:assert', {
  description: 'Checks offline that test/integ/integ.fast-autoscaler.ts synthesizes to its committed snapshot (no AWS calls)',
  exec: `${integRunner} integ.fast-autoscaler.ts`,
});
project.addTask('integ:fast-autoscaler:snapshot', {
  description: 'Rewrites the committed snapshot from the current code, offline, without deploying (after a deliberate change)',
  exec: `${integRunner} --force --dry-run integ.fast-autoscaler.ts`,
});
project.addTask('integ:fast-autoscaler:deploy', {
  description: 'Deploys the integ test to the AWS account of your credentials, runs its assertions, destroys it and rewrites the snapshot (an estimated 30-60 minutes or more and $0.15; see docs/verification.md)',
  // The region of the credentials' environment (integ-runner would pick among three of its
  // own); a POSIX shell expands the default, which projen's built-in shell does not.
  exec: `${integRunner} integ.fast-autoscaler.ts --force --parallel-regions="\${AWS_REGION:-\${AWS_DEFAULT_REGION:-us-east-1}}"`,
  shell: TaskShell.sh(),
});
project.addTask('integ:fast-autoscaler:destroy', {
  description: 'Destroys the integ test stacks, if a deploy was interrupted before it could clean up',
  exec: 'cdk destroy --app "ts-node -P tsconfig.dev.json test/integ/integ.fast-autoscaler.ts" --all --force --no-notices',
});
project.testTask.spawn(integAssertTask);
// integ-runner's working copy of a run's cloud assembly; the snapshot's asset directories (the
// comparison reads only templates and asset hashes, and the assertion provider's bundle alone
// weighs 2 MB).
project.gitignore.exclude('/test/integ/cdk-integ.out.*', '/test/integ/*.snapshot/asset.*');

project.synth();
