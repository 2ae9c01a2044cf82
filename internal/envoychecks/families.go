package envoychecks

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Family is one group of checks, with its own inventory file (docs/envoy-checks/<Name>.tsv), so that rules for
// different families can be written in parallel without touching the same file.
type Family struct {
	Name  string
	Title string
	// Target: a family a sidecar or edge bootstrap commonly uses, held to the coverage target.
	Target bool
	// Rejected says in a sentence or two what the validator rejects in this family (the table in docs/VALIDATION.md).
	Rejected string
}

// ReadFamilies reads dir/families.tsv (family, title, target yes/no, what is rejected), in report order.
func ReadFamilies(dir string) ([]Family, error) {
	f, err := os.Open(filepath.Join(dir, "families.tsv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Family
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, "#") || strings.TrimSpace(text) == "" || strings.HasPrefix(text, "family\t") {
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) != 4 || (cols[2] != "yes" && cols[2] != "no") {
			return nil, fmt.Errorf("families.tsv:%d: want family, title, target (yes/no), rejected", line)
		}
		out = append(out, Family{Name: cols[0], Title: cols[1], Target: cols[2] == "yes", Rejected: cols[3]})
	}
	return out, sc.Err()
}
