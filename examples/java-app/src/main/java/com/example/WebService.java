package com.example;

import io.github.cdkfastautoscaler.FastAutoscaler;
import java.util.List;
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
import software.constructs.Construct;

/** The web service both stacks scale: Apache httpd on Fargate, behind an internet-facing ALB. */
final class WebService {
    private WebService() {
    }

    /** A Fargate service (httpd on port 80) in a new VPC. */
    static FargateService fargateService(final Construct scope) {
        Vpc vpc = Vpc.Builder.create(scope, "Vpc").maxAzs(2).natGateways(1).build();
        Cluster cluster = Cluster.Builder.create(scope, "Cluster").vpc(vpc).build();
        FargateTaskDefinition taskDefinition = FargateTaskDefinition.Builder.create(scope, "Task")
                .cpu(256)
                .memoryLimitMiB(512)
                .build();
        taskDefinition.addContainer("app", ContainerDefinitionOptions.builder()
                .image(ContainerImage.fromRegistry("public.ecr.aws/docker/library/httpd:2.4"))
                .portMappings(List.of(PortMapping.builder().containerPort(80).build()))
                .build());
        // desiredCount is left unset: the autoscaler owns it.
        return FargateService.Builder.create(scope, "Web")
                .cluster(cluster)
                .taskDefinition(taskDefinition)
                .build();
    }

    /** Sends traffic through the proxy: that is what the autoscaler measures. */
    static void behindAlb(final Construct scope, final FargateService service, final FastAutoscaler autoscaler) {
        ApplicationLoadBalancer alb = ApplicationLoadBalancer.Builder.create(scope, "Alb")
                .vpc(service.getCluster().getVpc())
                .internetFacing(true)
                .build();
        ApplicationListener listener = alb.addListener("Http", BaseApplicationListenerProps.builder().port(80).build());
        listener.addTargets("Web", AddApplicationTargetsProps.builder()
                .port(80)
                .targets(List.of(autoscaler.getLoadBalancerTarget()))
                .build());
    }
}
