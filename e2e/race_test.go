//go:build race

package e2e

// raceBuild makes TestMain build the agent with -race as well: a data race in the agent
// then fails the test through the agent's exit code (66) and its stderr report.
const raceBuild = true
