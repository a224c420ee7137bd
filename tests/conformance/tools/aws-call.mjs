// One AWS API call through the AWS SDK for JavaScript v3, for tests that play "someone else" against the simulator
// (an operator raising desired capacity, Terraform pointing a group at a launch template version) while the module runs.
//   node aws-call.mjs <ec2|auto-scaling> <CommandName> '<input as JSON>'
// Endpoint, region and credentials come from the environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID...).
// Prints the command's output as JSON.
const [service, command, input = "{}"] = process.argv.slice(2);
const module = await import(`@aws-sdk/client-${service}`);
const Client = Object.values(module).find((v) => typeof v === "function" && /Client$/.test(v.name) && v.name !== "Client");
const Command = module[`${command}Command`];
if (!Command) {
  console.error(`no command ${command} in @aws-sdk/client-${service}`);
  process.exit(2);
}
const output = await new Client({}).send(new Command(JSON.parse(input)));
delete output.$metadata;
console.log(JSON.stringify(output));
