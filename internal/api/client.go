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
	code, body, err := c.Do(ctx, http.MethodGet, PathStatus)
	if err != nil {
		return Status{}, err
	}
	if code != http.StatusOK {
		return Status{}, fmt.Errorf("%s answered %d: %s", PathStatus, code, truncate(strings.TrimSpace(string(body)), 200))
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
	code, body, err := c.Do(ctx, http.MethodPost, PathShutdown)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("%s answered %d: %s", PathShutdown, code, truncate(strings.TrimSpace(string(body)), 200))
	}
	return nil
}
