package conformance

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Issue 21: an inline fragment renders exactly as its file twin, so the goldens of the inline
// cases equal those of the file cases they copy.
func TestInlineGoldensEqualTheirFileTwins(t *testing.T) {
	dir, err := goldenRoot()
	if err != nil {
		t.Fatal(err)
	}
	for inline, file := range map[string]string{
		"g60-inline-resources-base64": "g13-merge-resources-file",
		"g61-inline-all-four":         "g14-merge-all-four",
	} {
		a, errA := os.ReadFile(filepath.Join(dir, inline+".json"))
		b, errB := os.ReadFile(filepath.Join(dir, file+".json"))
		if errA != nil || errB != nil {
			t.Fatalf("%v %v", errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("golden/%s.json differs from golden/%s.json: the inline variables must render as the files", inline, file)
		}
	}
}
