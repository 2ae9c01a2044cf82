package env

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
)

// FileVar is one KEY=VALUE line of an environment file.
type FileVar struct {
	Key, Value string
	Line       int
}

// keyRE is what a variable name may look like in an environment file (compiled on first use:
// the agent's run reads no such file).
var keyRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// ParseEnvFile parses an environment file in the conformance corpus's format:
// one KEY=VALUE per line, the key ending at the first '=', the value
// everything after it up to the end of the line, verbatim (spaces, quotes and
// JSON included; only "\n" ends a line); blank lines and lines starting with
// '#' are ignored. Anything else is an error naming name and the line. A key
// given twice is a warning, and the later line wins.
func ParseEnvFile(name string, data []byte) ([]FileVar, []string, error) {
	var vars []FileVar
	var warnings []string
	seen := map[string]int{}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		n := i + 1
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || !keyRE().MatchString(key) {
			return nil, nil, fmt.Errorf("%s:%d: want KEY=VALUE (KEY: letters, digits and _, not starting with a digit) or a # comment, got %q", name, n, truncate(line, 80))
		}
		if prev, dup := seen[key]; dup {
			warnings = append(warnings, fmt.Sprintf("%s:%d: %s is also set on line %d; the later value wins", name, n, key, prev))
		}
		seen[key] = n
		vars = append(vars, FileVar{Key: key, Value: value, Line: n})
	}
	return vars, warnings, nil
}

// ReadEnvFiles reads environment files in order into one map, later files
// (and later lines) winning, with the warnings of ParseEnvFile.
func ReadEnvFiles(paths []string) (map[string]string, []string, error) {
	vars := map[string]string{}
	var warnings []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("env file: %w", err)
		}
		fv, w, err := ParseEnvFile(p, data)
		if err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, w...)
		for _, v := range fv {
			vars[v.Key] = v.Value
		}
	}
	return vars, warnings, nil
}

// ParseAssignment parses one KEY=VALUE given on the command line.
func ParseAssignment(s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok || !keyRE().MatchString(key) {
		return "", "", fmt.Errorf("want KEY=VALUE (KEY: letters, digits and _, not starting with a digit), got %q", truncate(s, 80))
	}
	return key, value, nil
}

// Layered is a source in which the variables of layers win over base, later
// layers over earlier ones; a nil base means nothing underneath (hermetic).
func Layered(base Source, layers ...map[string]string) Source {
	return func(k string) (string, bool) {
		for i := len(layers) - 1; i >= 0; i-- {
			if v, ok := layers[i][k]; ok {
				return v, true
			}
		}
		if base == nil {
			return "", false
		}
		return base(k)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
