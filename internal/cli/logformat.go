package cli

import (
	"io"
	"strings"

	"github.com/appnet/appnet-agent/internal/logging"
)

// failAs reports err like fail, but as one JSON log line when format (APPNET_LOG_FORMAT's
// raw value: the variables may not have loaded) says json, so a log pipeline parses even the
// agent's last words. It returns exit code 1.
func failAs(stderr io.Writer, err error, format string) int {
	if strings.EqualFold(strings.TrimSpace(format), logging.FormatJSON) {
		logging.NewFormat(stderr, "info", logging.FormatJSON).Error(err.Error())
		return 1
	}
	return fail(stderr, err)
}
