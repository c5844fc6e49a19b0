// The emulator as the Node SDKs see it: `@alicloud/pop-core` (RPC v1, GET
// and POST) and the Tea SDKs `@alicloud/ecs20140526` and
// `@alicloud/sts20150401` on `@alicloud/openapi-client`, in their default
// mode (signature V3) and with `signatureAlgorithm: 'v2'`.
//
// Usage: node conformance_node.js ENDPOINT KEY_ID SECRET   (host:port)
// The fleet is tests/sdk/checks.py's. Expected values come from the SDK
// models and docs, cited per check. One line per check; exit 1 on any
// failure.
'use strict';

const RPCClient = require('@alicloud/pop-core').RPCClient;
const Ecs = require('@alicloud/ecs20140526');
const Sts = require('@alicloud/sts20150401');
const { Config } = require('@alicloud/openapi-client');

const REGION = 'cn-hangzhou';
const ACCOUNT = '1234567890123456';
const ROLE_ARN = `acs:ram::${ACCOUNT}:role/conformance`;
const INSTANCES = Array.from({ length: 120 }, (_, n) => `i-bp1test${String(n).padStart(5, '0')}`);

const failed = [];

async function check(name, run) {
  try {
    const detail = await run();
    console.log(`ok ${name}: ${detail}`);
  } catch (error) {
    failed.push(name);
    console.log(`FAIL ${name}: ${error && error.stack ? error.message : error}`);
  }
}

async function refused(name, run, code, status) {
  await check(name, async () => {
    try {
      await run();
    } catch (error) {
      const got = error.code;
      const gotStatus = error.statusCode || (error.data && error.data.statusCode);
      if (got !== code) throw new Error(`expected ${code}, got ${got}: ${error.message}`);
      if (status !== undefined && gotStatus !== status) throw new Error(`expected HTTP ${status}, got ${gotStatus}`);
      return `${got} (HTTP ${gotStatus})`;
    }
    throw new Error(`expected ${code}, but the call succeeded`);
  });
}

function equal(got, expected, what) {
  const [a, b] = [JSON.stringify(got), JSON.stringify(expected)];
  if (a !== b) throw new Error(`${what}: expected ${b}, got ${a}`);
  return `${what} = ${a}`;
}

async function popCore(endpoint, keyId, secret) {
  const pop = (key, version) =>
    new RPCClient({ accessKeyId: keyId, accessKeySecret: key, endpoint: `http://${endpoint}`, apiVersion: version });
  const ecs = pop(secret, '2014-05-26');
  const ids = (answer) => answer.Instances.Instance.map((i) => i.InstanceId);
  for (const method of ['GET', 'POST']) {
    const call = (action, params) => ecs.request(action, params, { method, timeout: 20000 });
    await check(`pop-core ${method}: DescribeInstances by InstanceIds`, async () =>
      equal(ids(await call('DescribeInstances', { RegionId: REGION, InstanceIds: JSON.stringify(INSTANCES.slice(0, 2)) })).sort(), INSTANCES.slice(0, 2), 'ids'));
    // alibabacloud_ecs20140526 _describe_instances_request.py l.140-145.
    await check(`pop-core ${method}: MaxResults=5 is served as 10`, async () =>
      equal(ids(await call('DescribeInstances', { RegionId: REGION, MaxResults: 5 })).length, 10, 'items'));
    await check(`pop-core ${method}: PageNumber=2 of PageSize=10`, async () => {
      const answer = await call('DescribeInstances', { RegionId: REGION, PageNumber: 2, PageSize: 10 });
      return equal([answer.PageNumber, answer.PageSize, answer.TotalCount, ids(answer).length], [2, 10, 120, 10], 'PageNumber, PageSize, TotalCount, items');
    });
    // pop-core rpc.js l.176-178: the action's first letter is upper-cased.
    await check(`pop-core ${method}: a lower-case action is sent as DescribeInstances`, async () =>
      equal(ids(await call('describeInstances', { regionId: REGION, instanceIds: JSON.stringify([INSTANCES[9]]) })), [INSTANCES[9]], 'ids'));
    await refused(`pop-core ${method}: DescribeInstances without RegionId`, () => call('DescribeInstances', {}), 'MissingParameter');
  }
  const wrong = pop(`${secret}-wrong`, '2014-05-26');
  await refused('pop-core: a wrong secret', () => wrong.request('DescribeInstances', { RegionId: REGION }, { method: 'POST' }), 'SignatureDoesNotMatch');
  const sts = pop(secret, '2015-04-01');
  await check('pop-core: GetCallerIdentity', async () =>
    equal((await sts.request('GetCallerIdentity', {}, { method: 'POST' })).AccountId, ACCOUNT, 'AccountId'));
}

async function tea(endpoint, keyId, secret, mode) {
  const config = (key, token) => new Config({
    accessKeyId: keyId, accessKeySecret: key, securityToken: token, endpoint, protocol: 'http', regionId: REGION,
    signatureAlgorithm: mode === 'v2' ? 'v2' : undefined,
  });
  const ecs = new Ecs.default(config(secret));
  const sts = new Sts.default(config(secret));
  const ids = (response) => response.body.instances.instance.map((i) => i.instanceId);
  const instances = (fields) => ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: REGION, ...fields }));
  await check(`tea ${mode}: DescribeInstances by InstanceIds`, async () =>
    equal(ids(await instances({ instanceIds: JSON.stringify(INSTANCES.slice(0, 2)) })).sort(), INSTANCES.slice(0, 2), 'ids'));
  // _describe_instances_request.py l.140-145: above 100 is 100.
  await check(`tea ${mode}: MaxResults=101 is served as 100`, async () =>
    equal(ids(await instances({ maxResults: 101 })).length, 100, 'items'));
  await check(`tea ${mode}: PageNumber=2 of PageSize=10`, async () => {
    const body = (await instances({ pageNumber: 2, pageSize: 10 })).body;
    return equal([body.pageNumber, body.pageSize, body.totalCount], [2, 10, 120], 'PageNumber, PageSize, TotalCount');
  });
  await check(`tea ${mode}: InstanceName filters`, async () =>
    equal(ids(await instances({ instanceName: `${INSTANCES[5]}-name` })), [INSTANCES[5]], 'ids'));
  await check(`tea ${mode}: JoinResourceGroup moves the instance`, async () => {
    const moved = mode === 'v2' ? INSTANCES[116] : INSTANCES[115];
    await ecs.joinResourceGroup(new Ecs.JoinResourceGroupRequest({ regionId: REGION, resourceType: 'instance', resourceId: moved, resourceGroupId: 'rg-legacy' }));
    return equal((await instances({ instanceIds: JSON.stringify([moved]) })).body.instances.instance[0].resourceGroupId, 'rg-legacy', 'group');
  });
  const wrong = new Ecs.default(config(`${secret}-wrong`));
  await refused(`tea ${mode}: a wrong secret`, () => wrong.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: REGION })), 'SignatureDoesNotMatch', 400);
  await check(`tea ${mode}: GetCallerIdentity`, async () =>
    equal((await sts.getCallerIdentity()).body.identityType, 'RAMUser', 'IdentityType'));
  await check(`tea ${mode}: an STS key from AssumeRole`, async () => {
    // alibabacloud_sts20150401 _assume_role_request.py l.17-21 and l.55.
    const issued = (await sts.assumeRole(new Sts.AssumeRoleRequest({ roleArn: ROLE_ARN, roleSessionName: 'n'.repeat(64), durationSeconds: 7200 }))).body.credentials;
    const withKey = (Client) => new Client(new Config({
      accessKeyId: issued.accessKeyId, accessKeySecret: issued.accessKeySecret, securityToken: issued.securityToken,
      endpoint, protocol: 'http', regionId: REGION, signatureAlgorithm: mode === 'v2' ? 'v2' : undefined,
    }));
    equal((await withKey(Sts.default).getCallerIdentity()).body.identityType, 'AssumedRoleUser', 'IdentityType');
    const listed = await withKey(Ecs.default).describeInstances(new Ecs.DescribeInstancesRequest({ regionId: REGION }));
    return equal(ids(listed).length, 10, 'instances listed with the STS key');
  });
}

async function main() {
  const [endpoint, keyId, secret] = process.argv.slice(2);
  if (!secret) {
    console.log('usage: node conformance_node.js ENDPOINT KEY_ID SECRET');
    process.exit(2);
  }
  await popCore(endpoint, keyId, secret);
  for (const mode of ['acs3', 'v2']) await tea(endpoint, keyId, secret, mode);
  if (failed.length) {
    console.log(`FAILED ${failed.length}: ${failed.join(', ')}`);
    process.exit(1);
  }
  console.log('ALL OK');
}

main().catch((error) => {
  console.log(`FAILED: ${error.stack}`);
  process.exit(1);
});
