package golden

import (
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// Counts tallies results.
type Counts struct{ Passed, Updated, Failed, Broken int }

// Count tallies results.
func Count(results []Result) Counts {
	var c Counts
	for _, r := range results {
		switch r.Status {
		case Pass:
			c.Passed++
		case Updated:
			c.Updated++
		case Fail:
			c.Failed++
		default:
			c.Broken++
		}
	}
	return c
}

// WriteText prints one line per case (ok, updated, FAIL, ERROR) with the
// details of failures indented below it, then a summary line.
func WriteText(w io.Writer, results []Result) error {
	var b strings.Builder
	for _, r := range results {
		label := map[Status]string{Pass: "ok     ", Updated: "updated", Fail: "FAIL   ", Broken: "ERROR  "}[r.Status]
		fmt.Fprintf(&b, "%s %s", label, terminalSafe(r.Case.Name, false))
		if r.Summary != "" {
			fmt.Fprintf(&b, ": %s", terminalSafe(r.Summary, false))
		}
		b.WriteByte('\n')
		for _, warn := range r.Warnings {
			fmt.Fprintf(&b, "        warning: %s\n", terminalSafe(warn, false))
		}
		if r.Detail != "" {
			b.WriteString(indent(terminalSafe(r.Detail, true), "        "))
		}
	}
	c := Count(results)
	fmt.Fprintf(&b, "%d passed, %d failed", c.Passed+c.Updated, c.Failed+c.Broken)
	if c.Updated > 0 {
		fmt.Fprintf(&b, " (%d updated)", c.Updated)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// terminalSafe escapes control characters (C0, DEL, C1) and invalid UTF-8 in s as \xNN or
// \u00NN, so a case file someone else named (a\x1b[2J.env) cannot drive the terminal that shows
// the report; with keepLines, line feeds and tabs stay (a diff).
func terminalSafe(s string, keepLines bool) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return isControl(r, keepLines) }) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case isControl(r, keepLines):
			if r < 0x80 {
				fmt.Fprintf(&b, "\\x%02x", r)
			} else {
				fmt.Fprintf(&b, "\\u%04x", r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune, keepLines bool) bool {
	if keepLines && (r == '\n' || r == '\t') {
		return false
	}
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f)
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
	return prefix + strings.Join(lines, prefix) + "\n"
}

// JUnit XML, in the form CI systems read (Jenkins, GitLab, GitHub actions
// that publish test reports): one suite, one testcase per case; a mismatch is
// a <failure>, a broken case an <error>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes results as a JUnit XML report named suite.
func WriteJUnit(w io.Writer, suite string, results []Result) error {
	s := junitSuite{Name: suite, Tests: len(results)}
	var total time.Duration
	for _, r := range results {
		total += r.Duration
		jc := junitCase{
			Name:      filepath.Base(r.Case.Name),
			Classname: filepath.ToSlash(filepath.Dir(r.Case.Name)),
			File:      r.Case.Env,
			Time:      seconds(r.Duration),
		}
		if len(r.Warnings) > 0 {
			jc.SystemOut = "warning: " + strings.Join(r.Warnings, "\nwarning: ") + "\n"
		}
		p := &junitProblem{Message: r.Summary, Text: r.Detail}
		switch r.Status {
		case Fail:
			s.Failures++
			p.Type = "mismatch"
			jc.Failure = p
		case Broken:
			s.Errors++
			p.Type = "broken case"
			jc.Error = p
		}
		s.Cases = append(s.Cases, jc)
	}
	s.Time = seconds(total)
	doc := junitSuites{Name: suite, Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
