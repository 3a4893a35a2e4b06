/**
 * RBAC users with IAM authentication for one replication group, in a user group of their own.
 * ElastiCache requires every user group to hold a user named `default`; this one is switched off
 * and allowed nothing, so the only way in is as one of the given users, with an IAM auth token
 * signed by a principal that `elasticache:Connect` admits.
 */
import { RemovalPolicy, Stack, ArnFormat, Token } from 'aws-cdk-lib';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';

export interface CacheUserSpec {
  /** The user's id, which is also its name (ElastiCache requires that for IAM authentication). */
  readonly userId: string;
  /** What it may do, e.g. PROBE_ACCESS_STRING from infra/access-string.ts. */
  readonly accessString: string;
}

export interface CacheUsersProps {
  /** The user group's id; its disabled default user is `<id>-default`. */
  readonly userGroupId: string;
  readonly users: readonly CacheUserSpec[];
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The engine of the users and their group, whatever the cluster runs. ElastiCache lets Valkey
 * clusters use user groups of either engine, Redis OSS clusters only `redis` ones, and a `valkey`
 * user group may hold only users that authenticate (password or IAM): the disabled default user,
 * which needs no password, can only sit in a `redis` group.
 */
export const USER_ENGINE = 'redis';

/** What a user group of this construct's default user may do: nothing, and it is off. */
export const DISABLED_DEFAULT_ACCESS_STRING = 'off -@all';

/** ElastiCache's rule for user and user group ids. */
const ID = /^[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*$/;

export class CacheUsers extends Construct {
  readonly userGroup: elasticache.CfnUserGroup;
  readonly userGroupId: string;
  /** By user id. */
  readonly users: ReadonlyMap<string, elasticache.CfnUser>;

  constructor(scope: Construct, id: string, props: CacheUsersProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    validate(props);
    this.userGroupId = props.userGroupId;

    const disabledDefault = new elasticache.CfnUser(this, 'DefaultUser', {
      engine: USER_ENGINE,
      userId: `${props.userGroupId}-default`,
      userName: 'default',
      // Nobody can authenticate as a user that is off; no password is needed to keep it shut.
      authenticationMode: { Type: 'no-password-required' },
      accessString: DISABLED_DEFAULT_ACCESS_STRING,
    });
    disabledDefault.applyRemovalPolicy(removalPolicy);

    const users = new Map<string, elasticache.CfnUser>();
    for (const user of props.users) {
      const resource = new elasticache.CfnUser(this, `User-${user.userId}`, {
        engine: USER_ENGINE,
        userId: user.userId,
        userName: user.userId,
        authenticationMode: { Type: 'iam' },
        accessString: user.accessString,
      });
      resource.applyRemovalPolicy(removalPolicy);
      users.set(user.userId, resource);
    }
    this.users = users;

    this.userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine: USER_ENGINE,
      userGroupId: props.userGroupId,
      userIds: [disabledDefault.userId, ...users.keys()],
    });
    // The group names its users by id, which CloudFormation cannot see as references.
    for (const user of [disabledDefault, ...users.values()])
      this.userGroup.addResourceDependency(user);
    this.userGroup.applyRemovalPolicy(removalPolicy);
  }

  /** `arn:<partition>:elasticache:<region>:<account>:user:<id>`, for `elasticache:Connect`. */
  userArn(userId: string): string {
    return userArn(this, userId);
  }
}

export function userArn(scope: Construct, userId: string): string {
  return Stack.of(scope).formatArn({
    service: 'elasticache',
    resource: 'user',
    resourceName: userId,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

export function replicationGroupArn(scope: Construct, replicationGroupId: string): string {
  return Stack.of(scope).formatArn({
    service: 'elasticache',
    resource: 'replicationgroup',
    resourceName: replicationGroupId,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

function validate(props: CacheUsersProps): void {
  const ids = [props.userGroupId, ...props.users.map((user) => user.userId)];
  for (const id of ids) {
    if (Token.isUnresolved(id)) continue;
    if (!ID.test(id)) {
      throw new Error(
        `CacheUsers: ${JSON.stringify(id)} is not a valid ElastiCache id (a letter, then letters, digits and single hyphens, not ending in a hyphen)`,
      );
    }
  }
  if (props.users.length === 0) throw new Error('CacheUsers needs at least one user');
  const userIds = props.users.map((user) => user.userId);
  const seen = new Set<string>();
  for (const userId of userIds) {
    if (userId.toLowerCase() === 'default' || seen.has(userId.toLowerCase())) {
      throw new Error(
        `CacheUsers: user id ${JSON.stringify(userId)} is taken (each user once; "default" is the group's disabled default user)`,
      );
    }
    seen.add(userId.toLowerCase());
  }
  for (const user of props.users) {
    if (!Token.isUnresolved(user.accessString) && !/^on\b/.test(user.accessString)) {
      throw new Error(
        `CacheUsers: the access string of ${user.userId} must start with "on" (a user that is off cannot connect), got ${JSON.stringify(user.accessString)}`,
      );
    }
  }
}
