package com.example;

import io.github.cdkfastautoscaler.FastAutoscaler;
import io.github.cdkfastautoscaler.ScalingMetric;
import io.github.cdkfastautoscaler.ScalingPolicy;
import io.github.cdkfastautoscaler.TargetTrackingPolicyProps;
import java.util.List;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.ec2.Vpc;
import software.amazon.awscdk.services.ecs.Cluster;
import software.amazon.awscdk.services.ecs.ContainerDefinitionOptions;
import software.amazon.awscdk.services.ecs.ContainerImage;
import software.amazon.awscdk.services.ecs.FargateService;
import software.amazon.awscdk.services.ecs.FargateTaskDefinition;
import software.amazon.awscdk.services.ecs.PortMapping;
import software.amazon.awscdk.services.elasticloadbalancingv2.AddApplicationTargetsProps;
import software.amazon.awscdk.services.elasticloadbalancingv2.ApplicationListener;
import software.amazon.awscdk.services.elasticloadbalancingv2.ApplicationLoadBalancer;
import software.amazon.awscdk.services.elasticloadbalancingv2.BaseApplicationListenerProps;
import software.amazon.awscdk.services.sns.Topic;
import software.constructs.Construct;

/** A Fargate web service behind an internet-facing ALB, wrapped by a FastAutoscaler. */
public class TypicalStack extends Stack {
    public TypicalStack(final Construct scope, final String id, final StackProps props, final int maxTasks) {
        super(scope, id, props);

        Vpc vpc = Vpc.Builder.create(this, "Vpc").maxAzs(2).natGateways(1).build();
        Cluster cluster = Cluster.Builder.create(this, "Cluster").vpc(vpc).build();
        FargateTaskDefinition taskDefinition = FargateTaskDefinition.Builder.create(this, "Task")
                .cpu(256)
                .memoryLimitMiB(512)
                .build();
        taskDefinition.addContainer("app", ContainerDefinitionOptions.builder()
                .image(ContainerImage.fromRegistry("public.ecr.aws/docker/library/httpd:2.4"))
                .portMappings(List.of(PortMapping.builder().containerPort(80).build()))
                .build());
        // desiredCount is left unset: the autoscaler owns it.
        FargateService service = FargateService.Builder.create(this, "Web")
                .cluster(cluster)
                .taskDefinition(taskDefinition)
                .build();
        Topic topic = new Topic(this, "Topic");

        FastAutoscaler autoscaler = FastAutoscaler.Builder.create(this, "Autoscaler")
                .service(service)
                .policy(ScalingPolicy.targetTracking(TargetTrackingPolicyProps.builder()
                        .metric(ScalingMetric.ACTIVE_CONNECTIONS)
                        .targetPerTask(100)
                        .build()))
                .minTasks(2)
                .maxTasks(maxTasks)
                .topic(topic) // optional: a message on every scaling action
                .build();

        // Send traffic through the proxy: that is what the autoscaler measures.
        ApplicationLoadBalancer alb = ApplicationLoadBalancer.Builder.create(this, "Alb")
                .vpc(vpc)
                .internetFacing(true)
                .build();
        ApplicationListener listener = alb.addListener("Http", BaseApplicationListenerProps.builder().port(80).build());
        listener.addTargets("Web", AddApplicationTargetsProps.builder()
                .port(80)
                .targets(List.of(autoscaler.getLoadBalancerTarget()))
                .build());
    }
}
