package examples

import (
	"os"
	"path"
	"regexp"
	"testing"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/testenv"
)

// ssmStandardLimit is the largest value of an SSM Parameter Store standard parameter (4 KB;
// advanced: 8 KB; a Secrets Manager secret: 64 KB).
const ssmStandardLimit = 4096

// secretARN is what secrets.valueFrom may name in these examples: an SSM parameter or a
// Secrets Manager secret, by full ARN (required when the parameter is in another region or
// account, and unambiguous always).
var secretARN = regexp.MustCompile(`^arn:aws:(ssm|secretsmanager):([a-z0-9-]+):\d{12}:(parameter/|secret:)(.+)$`)

// secretLines checks a container's secrets and returns them as KEY=VALUE lines with the values
// the task would receive: each names an inline document variable of the agent, comes from an
// SSM parameter or Secrets Manager secret in the task's region, fetched with the task execution
// role; its value is the sample document in ecs/parameters/ (named after the parameter),
// stored gzip+base64: as that file says, and small enough for a standard SSM parameter.
func secretLines(t *testing.T, td *testenv.TaskDefinition, c *testenv.ContainerDefinition, region string) []string {
	t.Helper()
	if len(c.Secrets) > 0 && td.ExecutionRoleArn == "" {
		t.Errorf("container %s has secrets, which ECS fetches with the task execution role: executionRoleArn is required", c.Name)
	}
	inline := map[string]bool{}
	for _, v := range env.Vars() {
		inline[v.Name] = v.Type == "document"
	}
	var lines []string
	for _, s := range c.Secrets {
		if !inline[s.Name] {
			t.Errorf("container %s: secret %s is not one of the agent's inline document variables", c.Name, s.Name)
		}
		if envValue(c.EnvLines(), s.Name) != "" {
			t.Errorf("container %s: %s is both a secret and an environment variable", c.Name, s.Name)
		}
		m := secretARN.FindStringSubmatch(s.ValueFrom)
		if m == nil {
			t.Errorf("container %s: secret %s valueFrom %q is not an SSM parameter or Secrets Manager secret ARN", c.Name, s.Name, s.ValueFrom)
			continue
		}
		if m[2] != region {
			t.Errorf("container %s: secret %s is in %s, the task in %s", c.Name, s.Name, m[2], region)
		}
		doc, err := os.ReadFile(repoPath("examples", "ecs", "parameters", path.Base(m[4])+".yaml"))
		if err != nil {
			t.Fatalf("the sample value of %s: %v", s.ValueFrom, err)
		}
		value := testenv.GzipBase64(t, doc)
		if m[1] == "ssm" && len(value) > ssmStandardLimit {
			t.Errorf("%s: the encoded value is %d bytes, more than a standard SSM parameter holds (%d)", s.Name, len(value), ssmStandardLimit)
		}
		lines = append(lines, s.Name+"="+value)
	}
	return lines
}
