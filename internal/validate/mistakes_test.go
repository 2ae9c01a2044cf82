package validate

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMistakeCorpus: every file in testdata/mistakes is a realistic bootstrap with one mistake Envoy refuses at
// load time. Its header names the Envoy source of the rule ("# Envoy:"), and the path and message the validator
// must report ("# path:", "# error:").
func TestMistakeCorpus(t *testing.T) {
	eachFile(t, "testdata/mistakes/*.yaml", 40, func(t *testing.T, _ string, data []byte) {
		head := headerFields(data)
		if !strings.HasPrefix(head["envoy"], "source/") || head["path"] == "" || head["error"] == "" {
			t.Fatalf("header must give # Envoy: source/..., # path: and # error:, got %v", head)
		}
		_, err := validateCommand(data)
		if err == nil {
			t.Fatal("accepted")
		}
		assertProblem(t, err, head["path"], head["error"])
		if !strings.Contains(err.Error(), "(Envoy: "+head["envoy"]+")") {
			t.Errorf("the problem does not cite %s:\n%v", head["envoy"], err)
		}
	})
}

// TestAcceptedCorpus: every file in testdata/accepted is a realistic bootstrap Envoy loads; it must pass, and
// render's stricter options too when it has a node.
func TestAcceptedCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/accepted/*.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, "testdata/sidecar.yaml") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b, err := validateCommand(data)
			if err != nil {
				t.Fatalf("rejected:\n%v", err)
			}
			if w := Warnings(b); len(w) > 0 && b.GetNode() != nil {
				t.Errorf("warnings: %v", w)
			}
		})
	}
}

// headerFields reads the "# key: value" lines at the top of a corpus file.
func headerFields(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":"); ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out
}
