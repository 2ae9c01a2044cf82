package env

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseEnvFile(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []FileVar
		warnings []string
		wantErr  string
	}{
		{
			name: "values are verbatim to the end of the line",
			in:   "# comment\nA= unix:///x\nB={\"a\":\"b c\"}\n\nC=x=y\nD=\nE='q' \"q\" # not a comment\n",
			want: []FileVar{{"A", " unix:///x", 2}, {"B", `{"a":"b c"}`, 3}, {"C", "x=y", 5}, {"D", "", 6}, {"E", `'q' "q" # not a comment`, 7}},
		},
		{name: "no trailing newline", in: "K=V", want: []FileVar{{"K", "V", 1}}},
		{name: "only \\n ends a line", in: "K=V\r\n", want: []FileVar{{"K", "V\r", 1}}},
		{name: "empty file", in: ""},
		{
			name:     "duplicate: warning naming both lines, last wins",
			in:       "K=1\nJ=x\nK=2\n",
			want:     []FileVar{{"K", "1", 1}, {"J", "x", 2}, {"K", "2", 3}},
			warnings: []string{"f.env:3: K is also set on line 1; the later value wins"},
		},
		{name: "line without =", in: "A=1\nJUSTAKEY\n", wantErr: `f.env:2: want KEY=VALUE`},
		{name: "key with a space", in: " K=V\n", wantErr: `f.env:1: want KEY=VALUE`},
		{name: "key starting with a digit", in: "1K=V\n", wantErr: `f.env:1:`},
		{name: "export prefix", in: "export K=V\n", wantErr: `f.env:1:`},
		{name: "empty key", in: "=V\n", wantErr: `f.env:1:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := ParseEnvFile("f.env", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("vars = %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
		})
	}
}

func TestReadEnvFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.env", "A=1\nB=from-a\n")
	b := write("b.env", "B=from-b\nC=3\nC=4\n")
	got, warnings, err := ReadEnvFiles([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"A": "1", "B": "from-b", "C": "4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("vars = %v, want %v (later files and lines win)", got, want)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], b+":3: C") {
		t.Errorf("warnings = %q, want one for %s:3", warnings, b)
	}

	bad := write("bad.env", "A=1\nnope\n")
	for _, tt := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"missing file", []string{a, filepath.Join(dir, "missing.env")}, filepath.Join(dir, "missing.env") + ": no such file"},
		{"a directory", []string{dir}, dir + ": is a directory"},
		{"bad line", []string{a, bad}, bad + ":2: want KEY=VALUE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ReadEnvFiles(tt.paths); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseAssignment(t *testing.T) {
	for _, tt := range []struct {
		in, key, value string
		ok             bool
	}{
		{"K=V", "K", "V", true},
		{"K=", "K", "", true},
		{"K= a=b ", "K", " a=b ", true},
		{"K", "", "", false},
		{"=V", "", "", false},
		{"a-b=1", "", "", false},
	} {
		k, v, err := ParseAssignment(tt.in)
		if (err == nil) != tt.ok || k != tt.key || v != tt.value {
			t.Errorf("ParseAssignment(%q) = %q, %q, %v", tt.in, k, v, err)
		}
	}
}

func TestLayered(t *testing.T) {
	base := MapSource(map[string]string{"A": "base", "B": "base", "HOME": "/root"})
	files := map[string]string{"A": "file", "C": "file"}
	flags := map[string]string{"C": "flag", "D": ""}
	for _, tt := range []struct {
		name string
		src  Source
		want map[string]string // "-" means unset
	}{
		{"hermetic", Layered(nil, files, flags), map[string]string{"A": "file", "B": "-", "C": "flag", "D": "", "HOME": "-"}},
		{"inherited", Layered(base, files, flags), map[string]string{"A": "file", "B": "base", "C": "flag", "D": "", "HOME": "/root"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, want := range tt.want {
				v, ok := tt.src(k)
				if want == "-" {
					if ok {
						t.Errorf("%s = %q, want unset", k, v)
					}
					continue
				}
				if !ok || v != want {
					t.Errorf("%s = %q (%v), want %q", k, v, ok, want)
				}
			}
		})
	}
}
