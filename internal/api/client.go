package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/appnet/appnet-agent/internal/mgmtclient"
)

// The agent's own calls of its management API (`-envoyReadiness`, `appnet-agent wait`) go
// through mgmtclient, which finds the API where the variables put it; these helpers read its
// answers as this package writes them.

// FetchStatus reads /status.
func FetchStatus(ctx context.Context, c *mgmtclient.Client) (Status, error) {
	body, err := okBody(ctx, c, http.MethodGet, PathStatus)
	if err != nil {
		return Status{}, err
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return Status{}, fmt.Errorf("%s is not JSON: %w", PathStatus, err)
	}
	return st, nil
}

// RequestShutdown asks the agent to shut down gracefully (POST /shutdown); nil once it
// accepted.
func RequestShutdown(ctx context.Context, c *mgmtclient.Client) error {
	_, err := okBody(ctx, c, http.MethodPost, PathShutdown)
	return err
}

// okBody sends one request and returns the body of a 200 answer, or an error with what came
// instead.
func okBody(ctx context.Context, c *mgmtclient.Client, method, path string) ([]byte, error) {
	code, body, err := c.Do(ctx, method, path)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("%s answered %d: %s", path, code, truncate(strings.TrimSpace(string(body)), 200))
	}
	return body, nil
}
