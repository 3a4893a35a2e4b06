import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * The AWS APIs the probe may need to call from a subnet without internet access, each with the
 * construct id of its endpoint (kept stable: renaming one replaces the endpoint).
 */
export const INTERFACE_ENDPOINT_SERVICES = {
  secretsmanager: {
    id: 'SecretsManager',
    service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  },
  monitoring: {
    id: 'Monitoring',
    service: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  },
  elasticache: { id: 'ElastiCache', service: ec2.InterfaceVpcEndpointAwsService.ELASTICACHE },
} as const;
export type InterfaceEndpointService = keyof typeof INTERFACE_ENDPOINT_SERVICES;

export interface CacheNetworkProps {
  /**
   * Availability zones to spread the isolated subnets over; at least 2, since a Multi-AZ
   * replication group needs a subnet in a second zone. An environment-agnostic stack only
   * knows 2 zones, whatever this says.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * The VPC's IPv4 CIDR block.
   * @default '10.42.0.0/16'
   */
  readonly cidr?: string;
  /**
   * Interface endpoints for the probe's AWS API calls, placed in the isolated subnets.
   * @default ['secretsmanager', 'monitoring']
   */
  readonly interfaceEndpoints?: readonly InterfaceEndpointService[];
  /**
   * How long VPC flow logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: logs.RetentionDays;
  /**
   * What happens to the flow-log group when the stack is deleted. The network exists only for
   * the probe demo, so by default nothing outlives `cdk destroy`.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** What {@link CacheNetwork.addInterfaceEndpoints} created. */
export interface InterfaceEndpoints {
  /** Attached to every endpoint; it has no ingress until something is allowed in. */
  readonly securityGroup: ec2.SecurityGroup;
  readonly endpoints: Partial<Record<InterfaceEndpointService, ec2.InterfaceVpcEndpoint>>;
}

/**
 * A VPC with private isolated subnets only (no NAT gateway, no internet gateway), flow logs of
 * all traffic, and interface endpoints so that a probe inside it can still reach the AWS APIs.
 */
export class CacheNetwork extends Construct {
  /**
   * Adds interface endpoints with private DNS and one shared security group that admits nobody
   * until {@link ec2.Connections.allowFrom} is called on it. Works for an imported VPC too
   * (`ec2.Vpc.fromVpcAttributes`), which is why it is static.
   */
  static addInterfaceEndpoints(
    scope: Construct,
    id: string,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    services: readonly InterfaceEndpointService[],
  ): InterfaceEndpoints {
    const group = new Construct(scope, id);
    const securityGroup = new ec2.SecurityGroup(group, 'SecurityGroup', {
      vpc,
      description: 'AWS API interface endpoints: HTTPS from the probe only',
      // Endpoints only answer; they never open connections.
      allowAllOutbound: false,
    });
    const endpoints: Partial<Record<InterfaceEndpointService, ec2.InterfaceVpcEndpoint>> = {};
    for (const name of new Set(services)) {
      const { id: endpointId, service } = INTERFACE_ENDPOINT_SERVICES[name];
      endpoints[name] = new ec2.InterfaceVpcEndpoint(group, endpointId, {
        vpc,
        service,
        subnets,
        securityGroups: [securityGroup],
        privateDnsEnabled: true,
        // `open` would admit the whole VPC CIDR on 443; access is granted per client instead.
        open: false,
      });
    }
    return { securityGroup, endpoints };
  }

  readonly vpc: ec2.Vpc;
  /** The isolated subnets, for the cache subnet group, the probe and the endpoints. */
  readonly subnets: ec2.SubnetSelection;
  /** Attached to the interface endpoints; see {@link allowEndpointAccessFrom}. */
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  readonly endpoints: InterfaceEndpoints['endpoints'];
  readonly flowLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CacheNetworkProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    if (!Token.isUnresolved(maxAzs) && !(Number.isInteger(maxAzs) && maxAzs >= 2)) {
      throw new Error(
        `CacheNetwork maxAzs must be an integer of at least 2 (Multi-AZ needs a second zone), got ${maxAzs}`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.42.0.0/16'),
      maxAzs,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
      // Nothing uses the default security group; strip its rules whatever the feature flags say.
      restrictDefaultSecurityGroup: true,
    });

    const { securityGroup, endpoints } = CacheNetwork.addInterfaceEndpoints(
      this,
      'Endpoints',
      this.vpc,
      this.subnets,
      props.interfaceEndpoints ?? ['secretsmanager', 'monitoring'],
    );
    this.endpointSecurityGroup = securityGroup;
    this.endpoints = endpoints;
  }

  /** Lets `peer` (the probe) reach the interface endpoints over HTTPS. */
  allowEndpointAccessFrom(peer: ec2.IConnectable): void {
    this.endpointSecurityGroup.connections.allowFrom(
      peer,
      ec2.Port.tcp(443),
      'HTTPS to the AWS API endpoints',
    );
  }
}
