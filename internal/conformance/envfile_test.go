package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/env"
)

// envoyKind selects the stub APPNET_ENVOY_PATH points at (pseudo-key @envoy).
type envoyKind string

const (
	envoyPlain  envoyKind = "plain"
	envoyFIPS   envoyKind = "fips"
	envoyAbsent envoyKind = "absent"
	// envoyCurrent is an Envoy with the API go-control-plane carries (1.40): the golden cases
	// only (golden/README.md), for what depends on a recent Envoy.
	envoyCurrent envoyKind = "1.40"
)

// currentEnvoyVersion is what the envoyCurrent stub prints.
const currentEnvoyVersion = "envoy  version: abc/1.40.0/Clean/RELEASE/BoringSSL\n"

// samplingRulesPath is the global file the X-Ray side effect writes; the
// expectations refer to it by this literal path.
const samplingRulesPath = "/tmp/sampling-rules.json"

const sideEffectPrefix = "# side effect: "

// envVar is one KEY=VALUE line; Value is verbatim and may hold placeholders.
type envVar struct{ Key, Value string }

// caseFile is the parsed content of one cases/<ID>.env.
type caseFile struct {
	Summary string   // the first comment line, without "# "
	Vars    []envVar // in file order
	Envoy   envoyKind
	// SamplingRules is the JSON the run must leave in samplingRulesPath, or nil.
	SamplingRules json.RawMessage
}

// placeholders are the runner-provided values substituted inside values.
// Golden is ${GOLDEN}, the repository's golden directory, which only the
// golden cases (golden/cases/*.env) may use.
type placeholders struct{ Fixtures, TMDS, IMDS, Golden string }

var (
	placeholderRE = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)
	knownHolders  = map[string]bool{"${FIXTURES}": true, "${TMDS}": true, "${IMDS}": true}
	// goldenHolders adds ${GOLDEN}: the corpus lives outside this repository
	// and must not refer to it, so only golden cases accept it.
	goldenHolders = map[string]bool{"${FIXTURES}": true, "${TMDS}": true, "${IMDS}": true, "${GOLDEN}": true}
)

// parseEnvFile parses a case file strictly: anything the README does not
// define is an error, so a typo in the corpus cannot silently change a case.
func parseEnvFile(data []byte) (*caseFile, error) {
	return parseEnvFileWith(data, knownHolders)
}

// parseGoldenEnvFile parses golden/cases/*.env: the corpus format plus the
// ${GOLDEN} placeholder.
func parseGoldenEnvFile(data []byte) (*caseFile, error) {
	return parseEnvFileWith(data, goldenHolders)
}

// parseEnvFileWith parses a case with the agent's own env-file parser
// (env.ParseEnvFile, which `render --env-file` and `golden` use) after taking
// out what only the corpus defines: the summary line, side effects and
// pseudo-keys (blanked, so line numbers stay). The corpus is stricter than
// the parser: a duplicate key, which the parser only warns about, is an error.
func parseEnvFileWith(data []byte, known map[string]bool) (*caseFile, error) {
	c := &caseFile{Envoy: envoyPlain}
	// Only "\n" ends a line: values are verbatim, so nothing else is trimmed.
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, line := range lines {
		n := i + 1
		switch {
		case i == 0:
			if !strings.HasPrefix(line, "# ") {
				return nil, fmt.Errorf("line 1: want a '# summary' comment, got %q", line)
			}
			c.Summary = strings.TrimPrefix(line, "# ")
		case strings.HasPrefix(line, sideEffectPrefix):
			raw, err := parseSideEffect(strings.TrimPrefix(line, sideEffectPrefix))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			c.SamplingRules = raw
		case strings.HasPrefix(line, "@"):
			if err := c.setPseudoKey(strings.TrimPrefix(line, "@"), known["${GOLDEN}"]); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			lines[i] = ""
		}
	}
	vars, dups, err := env.ParseEnvFile("case", []byte(strings.Join(lines, "\n")))
	if err != nil {
		return nil, err
	}
	if len(dups) > 0 {
		return nil, fmt.Errorf("duplicate key: %s", dups[0])
	}
	for _, v := range vars {
		for _, p := range placeholderRE.FindAllString(v.Value, -1) {
			if !known[p] {
				return nil, fmt.Errorf("line %d: unknown placeholder %s", v.Line, p)
			}
		}
		c.Vars = append(c.Vars, envVar{Key: v.Key, Value: v.Value})
	}
	return c, nil
}

// parseSideEffect accepts the one side effect the README defines.
func parseSideEffect(s string) (json.RawMessage, error) {
	prefix := samplingRulesPath + " is written with: "
	if !strings.HasPrefix(s, prefix) {
		return nil, fmt.Errorf("unknown side effect %q", s)
	}
	raw := json.RawMessage(strings.TrimPrefix(s, prefix))
	if !json.Valid(raw) {
		return nil, fmt.Errorf("side effect JSON is invalid: %s", raw)
	}
	return raw, nil
}

func (c *caseFile) setPseudoKey(kv string, golden bool) error {
	key, value, _ := strings.Cut(kv, "=")
	if key != "envoy" {
		return fmt.Errorf("unknown pseudo-key @%s", key)
	}
	switch k := envoyKind(value); k {
	case envoyPlain, envoyFIPS, envoyAbsent:
		c.Envoy = k
		return nil
	case envoyCurrent:
		if golden {
			c.Envoy = k
			return nil
		}
	}
	if golden {
		return fmt.Errorf("@envoy=%q: want plain, fips, absent or %s", value, envoyCurrent)
	}
	return fmt.Errorf("@envoy=%q: want plain, fips or absent", value)
}

// environ returns the case variables as KEY=VALUE with placeholders expanded.
func (c *caseFile) environ(p placeholders) []string {
	r := strings.NewReplacer("${FIXTURES}", p.Fixtures, "${TMDS}", p.TMDS, "${IMDS}", p.IMDS, "${GOLDEN}", p.Golden)
	env := make([]string, 0, len(c.Vars))
	for _, v := range c.Vars {
		env = append(env, v.Key+"="+r.Replace(v.Value))
	}
	return env
}

// lookup returns the raw (unexpanded) value of key.
func (c *caseFile) lookup(key string) (string, bool) {
	for _, v := range c.Vars {
		if v.Key == key {
			return v.Value, true
		}
	}
	return "", false
}

func TestParseEnvFile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *caseFile
		wantErr string
	}{
		{
			name: "verbatim values and defaults",
			in:   "# summary\nA= unix:///x\nB={\"a\":\"b c\"}\nC=x=y\nD=\n",
			want: &caseFile{Summary: "summary", Envoy: envoyPlain, Vars: []envVar{
				{"A", " unix:///x"}, {"B", `{"a":"b c"}`}, {"C", "x=y"}, {"D", ""}}},
		},
		{
			name: "pseudo-key and comments",
			in:   "# s\n# deviation D1\n# original: x=y\n@envoy=absent\nK=${FIXTURES}/a",
			want: &caseFile{Summary: "s", Envoy: envoyAbsent, Vars: []envVar{{"K", "${FIXTURES}/a"}}},
		},
		{
			name: "side effect",
			in:   "# s\n# side effect: /tmp/sampling-rules.json is written with: {\"version\":2}\n@envoy=fips\n",
			want: &caseFile{Summary: "s", Envoy: envoyFIPS, SamplingRules: json.RawMessage(`{"version":2}`)},
		},
		{name: "no summary", in: "K=V\n", wantErr: "line 1"},
		{name: "missing equals", in: "# s\nKV\n", wantErr: "KEY=VALUE"},
		{name: "bad key", in: "# s\n K=V\n", wantErr: "KEY=VALUE"},
		{name: "duplicate", in: "# s\nK=1\nK=2\n", wantErr: "duplicate"},
		{name: "unknown envoy", in: "# s\n@envoy=static\n", wantErr: "@envoy"},
		{name: "unknown pseudo", in: "# s\n@foo=bar\n", wantErr: "pseudo-key"},
		{name: "unknown placeholder", in: "# s\nK=${FIXTURE}/x\n", wantErr: "placeholder"},
		{name: "golden placeholder outside golden cases", in: "# s\nK=${GOLDEN}/x\n", wantErr: "placeholder"},
		{name: "bad side effect json", in: "# s\n# side effect: /tmp/sampling-rules.json is written with: {\n", wantErr: "invalid"},
		{name: "unknown side effect", in: "# s\n# side effect: /tmp/other is written with: {}\n", wantErr: "unknown side effect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEnvFile([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestEnvironExpandsPlaceholders(t *testing.T) {
	c, err := parseGoldenEnvFile([]byte("# s\nA=${FIXTURES}/f\nB=${TMDS}\nC=${IMDS}/x\nD= ${FIXTURES}${FIXTURES}\nE=${GOLDEN}/o\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := c.environ(placeholders{Fixtures: "/fx", TMDS: "http://t/v4", IMDS: "http://i", Golden: "/g"})
	want := []string{"A=/fx/f", "B=http://t/v4", "C=http://i/x", "D= /fx/fx", "E=/g/o"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("environ = %q, want %q", got, want)
	}
}

// TestParseCorpusEnvFiles keeps the parser honest against the real corpus.
func TestParseCorpusEnvFiles(t *testing.T) {
	cases := mustLoadCases(t)
	kinds := map[envoyKind]int{}
	sideEffects := 0
	for _, c := range cases {
		data, err := os.ReadFile(filepath.Join(corpusCasesDir(), c.ID+".env"))
		if err != nil {
			t.Fatal(err)
		}
		cf, err := parseEnvFile(data)
		if err != nil {
			t.Errorf("%s.env: %v", c.ID, err)
			continue
		}
		kinds[cf.Envoy]++
		if cf.SamplingRules != nil {
			sideEffects++
		}
	}
	// The README documents these; if they vanish the runner paths go untested.
	if kinds[envoyFIPS] == 0 || kinds[envoyAbsent] == 0 || sideEffects == 0 {
		t.Errorf("corpus lost coverage: envoy kinds %v, side-effect cases %d", kinds, sideEffects)
	}
}
