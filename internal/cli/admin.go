package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/appnet/appnet-agent/internal/mgmtclient"
	"github.com/appnet/appnet-agent/internal/redact"
)

// Exit codes of `appnet-agent admin` beyond 0 (a 2xx answer), 1 (bad variables, no management
// API) and 2 (usage).
const (
	adminExitUnreachable = 3 // no answer: cannot connect, timed out, or the answer was cut
	adminExitHTTPError   = 4 // the agent answered with a 4xx or 5xx status
)

var adminUsage = usage{
	name:     "admin",
	synopsis: "[--agent ADDR] [--timeout DURATION] [--env-file FILE]... [--env KEY=VALUE]... GET|HEAD|POST PATH",
	summary:  "ask the running agent's management API (its socket or port), without curl",
	details: `Sends one request to the management API of the agent running with the same variables
(APPNET_AGENT_ADMIN_MODE, APPNET_AGENT_ADMIN_UDS_PATH, APPNET_AGENT_HTTP_PORT,
APPNET_AGENT_HTTP_BIND_ADDRESS), or at --agent, and prints the answer's body on stdout.
PATH is the path and query, e.g. /status, /envoy/config_dump?resource=dynamic_active_clusters.
POST is for the endpoints that act: /enableLogging, /drain_listeners, /shutdown.
Read-only pages of Envoy's admin are under /envoy/: config_dump (secrets redacted), clusters,
listeners, server_info, ready, runtime.

Exit status: 0 the agent answered 2xx; 1 bad variables, or no management API configured;
2 bad flags or arguments; 3 the agent could not be reached (connection refused, no socket,
timeout) or its answer was cut; 4 the agent answered with an error status (4xx, 5xx), whose
body is then printed on stderr.`,
	examples: []string{
		"appnet-agent admin GET /status",
		"appnet-agent admin GET '/envoy/config_dump?resource=dynamic_active_clusters' | jq .",
		"appnet-agent admin POST '/enableLogging?level=debug'",
		"appnet-agent admin --agent unix:/var/run/ecs/appnet_admin.sock GET /ready",
		"appnet-agent admin --agent 127.0.0.1:9902 GET /envoy/clusters",
	},
}

// adminMethods are the methods `admin` sends.
var adminMethods = map[string]bool{http.MethodGet: true, http.MethodHead: true, http.MethodPost: true}

// maxErrorBody bounds what of an error answer is printed on stderr.
const maxErrorBody = 4 << 10

// cmdAdmin sends one request to the agent's management API and prints the answer.
func cmdAdmin(args []string, stdout, stderr io.Writer) int {
	c := newCmdline(&adminUsage, stdout, stderr)
	agent := c.fs.String("agent", "", "the agent's management API at `ADDR` (unix:PATH, a socket path, HOST:PORT, :PORT) instead of where the variables put it")
	timeout := c.fs.Duration("timeout", 30*time.Second, "give up after `DURATION` (exit 3)")
	var envs envFlags
	envs.register(c.fs)
	operands, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(operands) != 2 {
		return c.usageError("expected a method and a path (e.g. GET /status), got %d arguments", len(operands))
	}
	method, path := strings.ToUpper(operands[0]), operands[1]
	if !adminMethods[method] {
		return c.usageError("method %q: allowed GET, HEAD, POST", operands[0])
	}
	if !strings.HasPrefix(path, "/") {
		return c.usageError("path %q must start with / (e.g. /status)", path)
	}
	if *timeout <= 0 {
		return c.usageError("--timeout %s: must be positive", *timeout)
	}
	client, err := adminClient(*agent, &envs, stderr)
	if err != nil {
		if errors.Is(err, errAdminUsage) {
			return c.usageError("%v", err)
		}
		return fail(stderr, err)
	}
	defer client.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return adminRequest(ctx, client, method, path, stdout, stderr)
}

var errAdminUsage = errors.New("--agent")

// adminClient reaches --agent, or the management API the variables describe.
func adminClient(agent string, envs *envFlags, stderr io.Writer) (*mgmtclient.Client, error) {
	if agent != "" {
		c, err := mgmtclient.Parse(agent)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errAdminUsage, err)
		}
		return c, nil
	}
	cfg, err := envs.load(newLogger(stderr, "warn"))
	if err != nil {
		return nil, err
	}
	c, err := mgmtclient.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%v; set it as the agent has it, or give --agent", err)
	}
	return c, nil
}

// adminRequest sends the request and copies a 2xx body to stdout; an error status's body goes
// to stderr. It returns the exit code.
func adminRequest(ctx context.Context, client *mgmtclient.Client, method, path string, stdout, stderr io.Writer) int {
	res, err := client.Open(ctx, method, path)
	if err != nil {
		fmt.Fprintf(stderr, "error: %s %s: %s\n", method, path, redact.Text(err.Error()))
		return adminExitUnreachable
	}
	defer res.Body.Close()
	if res.StatusCode >= 400 {
		body, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		fmt.Fprintf(stderr, "error: %s %s: the agent answered %s\n", method, path, res.Status)
		if msg := strings.TrimSpace(string(body)); msg != "" {
			fmt.Fprintln(stderr, msg)
		}
		return adminExitHTTPError
	}
	if _, err := io.Copy(stdout, res.Body); err != nil {
		fmt.Fprintf(stderr, "error: %s %s: the answer was cut: %v\n", method, path, err)
		return adminExitUnreachable
	}
	return 0
}
