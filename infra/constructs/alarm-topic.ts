/**
 * Where slotwatch's alarms notify: an SNS topic encrypted with its own KMS key, refusing
 * publishers that do not use TLS, with an optional e-mail subscription for the on-call.
 */
import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /**
   * An address to subscribe by e-mail (it must confirm the subscription before mail arrives).
   * @default - no subscription; subscribe chat, paging or mail to `topic` yourself
   */
  readonly email?: string;
  /**
   * Display name of the topic, shown as the sender of e-mail notifications.
   * @default 'slotwatch alarms'
   */
  readonly displayName?: string;
}

/** One `@`, no spaces, a dot in the domain: enough to catch a typo, not an RFC 5322 parser. */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;

export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    if (props.email !== undefined && !Token.isUnresolved(props.email)) {
      if (!EMAIL_SHAPE.test(props.email)) {
        throw new Error(
          `AlarmTopic: email must look like name@example.com, got ${JSON.stringify(props.email)}`,
        );
      }
    }

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the slotwatch alarm topic',
      enableKeyRotation: true,
    });
    const { account, region, partition } = Stack.of(this);
    // CloudWatch publishes alarm notifications as its service principal; without a key grant it
    // cannot write to an encrypted topic and notifications are dropped without any error. The
    // source conditions keep other accounts' alarms (the confused deputy) from using the key.
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': account },
      ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
    };
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: props.displayName ?? 'slotwatch alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    // The topic policy that enforceSSL creates replaces SNS's default one, so CloudWatch's right
    // to publish is stated here rather than left to the default.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );

    if (props.email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }
  }
}
