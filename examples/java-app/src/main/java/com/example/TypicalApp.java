package com.example;

import software.amazon.awscdk.App;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.StackProps;

/** The CDK app: `cdk synth` runs it (cdk.json), and so do the tests. */
public final class TypicalApp {
    public static void main(final String[] args) {
        App app = new App();
        StackProps props = StackProps.builder()
                .env(Environment.builder().account("123456789012").region("eu-west-1").build())
                .build();
        new TypicalStack(app, "Typical", props, 50);
        new TunedStack(app, "Tuned", props);
        app.synth();
    }
}
