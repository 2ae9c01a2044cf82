// Package golden checks bootstraps against expected files: it renders each
// case (a NAME.env environment file) hermetically, with replayed platform
// facts, and compares the result semantically with NAME.yaml, or the error
// with NAME.error. `appnet-agent golden` is a thin wrapper around it, and the
// repository's own golden and conformance tests use its rendering and
// comparison, so both take one code path.
package golden

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// File suffixes of a case NAME.
const (
	EnvExt   = ".env"        // the case's variables (required)
	YAMLExt  = ".yaml"       // expected bootstrap
	ErrorExt = ".error"      // expected error: every line that is not blank or # a substring
	FactsExt = ".facts.json" // platform facts overriding the shared ones
)

// Case is one NAME.env and what lies beside it.
type Case struct {
	// Name is the path of the case without .env, as given or found.
	Name string
	// Env is NAME.env.
	Env string
	// YAML is NAME.yaml when it exists.
	YAML string
	// Error is NAME.error when it exists.
	Error string
	// Facts is NAME.facts.json when it exists.
	Facts string
	// Problem is set when the case cannot run as laid out (e.g. both
	// expectations); it is reported as the case's error.
	Problem string
}

// Discover lists the cases named by args: a directory stands for every NAME.env
// directly in it, a file for itself (NAME.env, or NAME given as NAME.yaml or
// NAME.error). Cases come sorted by name. Expectations or facts without a
// NAME.env in a directory become cases with a Problem, so that nothing is
// silently skipped; an argument that does not exist, or a directory without
// any case, is an error.
func Discover(args []string) ([]Case, error) {
	byName := map[string]*Case{}
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			name, ok := caseName(arg)
			if !ok {
				return nil, fmt.Errorf("%s: not a case file (want NAME%s, or its NAME%s, NAME%s, NAME%s)", arg, EnvExt, YAMLExt, ErrorExt, FactsExt)
			}
			if err := add(byName, name); err != nil {
				return nil, err
			}
			continue
		}
		n, err := addDir(byName, arg)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: no case in this directory (cases are NAME%s files)", arg, EnvExt)
		}
	}
	cases := make([]Case, 0, len(byName))
	for _, c := range byName {
		cases = append(cases, *c)
	}
	slices.SortFunc(cases, func(a, b Case) int { return strings.Compare(a.Name, b.Name) })
	return cases, nil
}

// caseName maps a file of a case to the case's name.
func caseName(path string) (string, bool) {
	for _, ext := range []string{FactsExt, EnvExt, YAMLExt, ErrorExt} { // .facts.json before .json-like names
		if name, ok := strings.CutSuffix(path, ext); ok && filepath.Base(name) != "" && !strings.HasSuffix(name, "/") {
			return name, true
		}
	}
	return "", false
}

// addDir adds the cases of one directory and returns how many files of
// cases it held.
func addDir(byName map[string]*Case, dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name, ok := caseName(filepath.Join(dir, e.Name()))
		if !ok {
			continue // README.md, fragments, templates: not ours
		}
		n++
		if err := add(byName, name); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// add records case name with the files that exist beside it.
func add(byName map[string]*Case, name string) error {
	if _, done := byName[name]; done {
		return nil
	}
	c := &Case{Name: name}
	for ext, field := range map[string]*string{EnvExt: &c.Env, YAMLExt: &c.YAML, ErrorExt: &c.Error, FactsExt: &c.Facts} {
		switch st, err := os.Stat(name + ext); {
		case err == nil && st.Mode().IsRegular():
			*field = name + ext
		case err == nil:
			c.Problem = fmt.Sprintf("%s%s is not a regular file", name, ext)
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	switch {
	case c.Problem != "":
	case c.Env == "":
		c.Problem = fmt.Sprintf("%s%s is missing (every case is a NAME%s)", name, EnvExt, EnvExt)
	case c.YAML != "" && c.Error != "":
		c.Problem = fmt.Sprintf("%s has both %s and %s: keep one expectation", name, YAMLExt, ErrorExt)
	}
	byName[name] = c
	return nil
}
