// Package envoychecks reads and writes the inventory of Envoy's load-time configuration checks
// (docs/envoy-checks/*.tsv): one row per place in Envoy's source that rejects configuration while Envoy loads a
// bootstrap, with its class (implemented by a rule of package validate, needs the host, not reached at load,
// propagates another row's error, or still to do). scripts/envoy-checks extracts the rows from Envoy's source and
// writes them; the validator's tests read them to keep the inventory, the rules and their test cases in step; and
// the coverage figures of docs/envoy-checks.md and docs/VALIDATION.md are rendered from them.
//
// The inventory is data about the validator, not part of it: production code does not import this package.
package envoychecks

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Class says whether a row is a check the validator can make from the file and whether it does.
type Class string

// The classes of a row. Decidable rows are those of class Implemented and ToDo.
const (
	// Implemented: a rule of the validator makes this check, and a test case shows it.
	Implemented Class = "implemented"
	// ToDo: decidable from the bootstrap alone, not implemented yet.
	ToDo Class = "to-do"
	// NeedsHost: depends on what only the host or the Envoy build knows (files, certificates, DNS, sockets, the
	// extensions compiled in, the platform).
	NeedsHost Class = "needs-host"
	// NotReached: not raised while Envoy loads a bootstrap: per request or connection, on xDS updates delivered
	// later, or in code no valid bootstrap reaches (PANIC on impossible values).
	NotReached Class = "not-reached-at-load"
	// Propagates: re-raises an error built elsewhere (a status or exception message passed on), so the check is
	// the row that builds it.
	Propagates Class = "propagates"
)

// Classes lists the valid classes.
var Classes = []Class{Implemented, ToDo, NeedsHost, NotReached, Propagates}

// Decidable reports whether a row of this class counts in the coverage denominator.
func (c Class) Decidable() bool { return c == Implemented || c == ToDo }

// AutoNote starts the note of a row whose class the extractor guessed; a reviewed row has any other note (or
// none), and the extractor then never changes its class.
const AutoNote = "auto:"

// Row is one check.
type Row struct {
	ID    string // stable: family, then a hash of the file's base name, the message and its occurrence
	Class Class
	Rules []string // implemented rows: the validator rules that make the check (see package validate's RuleNames)
	Tests []string // implemented rows: the names of rule test cases Envoy rejects with this check
	// Generated from Envoy's source:
	Location  string // file:line at the commit of the inventory
	Function  string // the enclosing C++ function, as far as the extractor can tell
	Extension string // the extension (or API message) the file configures
	Message   string // the message, with {} for values filled in at run time
	Note      string // why the class, for rows not implemented; AutoNote... when the extractor guessed
}

// Reviewed reports whether a person (not the extractor) set the row's class.
func (r Row) Reviewed() bool { return !strings.HasPrefix(r.Note, AutoNote) }

// File returns the Envoy source file of the row.
func (r Row) File() string {
	f, _, _ := strings.Cut(r.Location, ":")
	return f
}

// header is the first line of every family file: its columns.
var header = []string{"id", "class", "rule", "test", "location", "function", "extension", "message", "note"}

// ReadFamily reads one family's rows from dir (docs/envoy-checks), with the file's leading comment lines.
func ReadFamily(dir, family string) (rows []Row, comments []string, err error) {
	f, err := os.Open(filepath.Join(dir, family+".tsv"))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	seenHeader := false
	for sc.Scan() {
		line++
		text := sc.Text()
		switch {
		case strings.HasPrefix(text, "#"):
			comments = append(comments, text)
			continue
		case !seenHeader:
			if text != strings.Join(header, "\t") {
				return nil, nil, fmt.Errorf("%s.tsv:%d: header must be %q", family, line, strings.Join(header, "\t"))
			}
			seenHeader = true
			continue
		case strings.TrimSpace(text) == "":
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) != len(header) {
			return nil, nil, fmt.Errorf("%s.tsv:%d: %d columns, want %d", family, line, len(cols), len(header))
		}
		r := Row{
			ID: cols[0], Class: Class(cols[1]), Rules: list(cols[2]), Tests: list(cols[3]),
			Location: cols[4], Function: cols[5], Extension: cols[6], Message: cols[7], Note: cols[8],
		}
		if !slices.Contains(Classes, r.Class) {
			return nil, nil, fmt.Errorf("%s.tsv:%d: class %q is not one of %v", family, line, r.Class, Classes)
		}
		rows = append(rows, r)
	}
	return rows, comments, sc.Err()
}

// Inventory is the whole of docs/envoy-checks: the families and each family's rows.
type Inventory struct {
	Families []Family
	Rows     map[string][]Row    // by family name
	Comments map[string][]string // each family file's leading comment lines
}

// Load reads the families and every family's rows from dir.
func Load(dir string) (*Inventory, error) {
	fams, err := ReadFamilies(dir)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{Families: fams, Rows: map[string][]Row{}, Comments: map[string][]string{}}
	for _, fam := range fams {
		rows, comments, err := ReadFamily(dir, fam.Name)
		if err != nil {
			return nil, err
		}
		inv.Rows[fam.Name], inv.Comments[fam.Name] = rows, comments
	}
	return inv, nil
}

// WriteFamily writes one family's rows (in the given order) after the comment lines.
func WriteFamily(dir, family string, comments []string, rows []Row) error {
	var b strings.Builder
	for _, c := range comments {
		b.WriteString(c + "\n")
	}
	b.WriteString(strings.Join(header, "\t") + "\n")
	for _, r := range rows {
		cols := []string{r.ID, string(r.Class), strings.Join(r.Rules, ","), strings.Join(r.Tests, ","), r.Location,
			r.Function, r.Extension, r.Message, r.Note}
		for i, c := range cols {
			cols[i] = clean(c)
		}
		b.WriteString(strings.Join(cols, "\t") + "\n")
	}
	return os.WriteFile(filepath.Join(dir, family+".tsv"), []byte(b.String()), 0o644)
}

// list splits a comma-separated column ("" is none).
func list(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// clean keeps a value on one line and in one column.
func clean(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

// ReadExtras reads dir/extras.tsv: the rules no row claims (checks Envoy makes elsewhere or differently, such as
// protoc-gen-validate's, or checks stricter than Envoy's on purpose), each with its reason.
func ReadExtras(dir string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "extras.tsv"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" || strings.HasPrefix(line, "rule\t") {
			continue
		}
		rule, reason, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("extras.tsv:%d: want rule<TAB>reason", i+1)
		}
		out[rule] = reason
	}
	return out, nil
}
