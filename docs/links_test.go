// Package docs_test checks the repository's documentation as a reader follows it: every relative Markdown link
// in README.md and docs/*.md names a file that exists, and every #anchor a heading of the file it points into.
// The docs are split by concern (README's "Where to read more" is the map), so a section that moves breaks
// links in other files; this test finds them.
package docs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestLinksResolve follows every relative link and anchor in README.md and docs/*.md.
func TestLinksResolve(t *testing.T) {
	root := testenv.RepoRoot()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	if len(files) < 5 {
		t.Fatalf("found only %v: the test does not see the docs", files)
	}
	for _, file := range files {
		rel, _ := filepath.Rel(root, file)
		for _, problem := range brokenLinks(t, file) {
			t.Errorf("%s: %s", rel, problem)
		}
	}
}

// The checker itself: a test that cannot fail would prove nothing.
func TestBrokenLinksFound(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("sub/OTHER.md", "# Other\n\n## What `validate` checks\n\n## Twice\n\n## Twice\n")
	main := write("MAIN.md", strings.Join([]string{
		"# Main",
		"## Shutdown, warnings and failures",
		"[ok](#main) [ok](#shutdown-warnings-and-failures) [ok](sub/OTHER.md#what-validate-checks)",
		"[ok](sub/OTHER.md#twice-1) [ok](sub/) [ok](https://example.com/#x) [ok](sub/OTHER.md \"title\")",
		"`[not a link](nowhere.md)` and a code block:",
		"```",
		"[not a link](nowhere.md)",
		"## not a heading",
		"```",
		"[bad](#not-a-heading) [bad](missing.md) [bad](sub/OTHER.md#twice-2) [bad](#Main)",
	}, "\n"))
	got := brokenLinks(t, main)
	want := []string{
		`link "#not-a-heading": MAIN.md has no heading with that anchor`,
		`link "missing.md": no such file`,
		`link "sub/OTHER.md#twice-2": sub/OTHER.md has no heading with that anchor`,
		`link "#Main": MAIN.md has no heading with that anchor`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

var (
	linkTarget = regexp.MustCompile(`\]\(([^()\s]+)(?:\s+"[^"]*")?\)`)
	codeSpan   = regexp.MustCompile("`[^`]*`")
	heading    = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	inlineLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// brokenLinks lists the relative links of the Markdown file path that lead nowhere.
func brokenLinks(t *testing.T, path string) []string {
	t.Helper()
	var problems []string
	for _, line := range readMarkdown(t, path) {
		for _, m := range linkTarget.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			dest := path
			if file != "" {
				dest = filepath.Join(filepath.Dir(path), filepath.FromSlash(file))
				if _, err := os.Stat(dest); err != nil {
					problems = append(problems, fmt.Sprintf("link %q: no such file", target))
					continue
				}
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(dest, ".md") {
				problems = append(problems, fmt.Sprintf("link %q: an anchor into a file that is not Markdown", target))
				continue
			}
			if !anchors(t, dest)[anchor] {
				name := file
				if name == "" {
					name = filepath.Base(path)
				}
				problems = append(problems, fmt.Sprintf("link %q: %s has no heading with that anchor", target, name))
			}
		}
	}
	return problems
}

// readMarkdown returns the lines of a Markdown file outside fenced code blocks.
func readMarkdown(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	fenced := false
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fenced = !fenced
			continue
		}
		if !fenced {
			lines = append(lines, line)
		}
	}
	return lines
}

// anchors are the anchors GitHub gives the headings of a Markdown file: the heading's text without its
// Markdown, lower-cased, with every character but letters, digits, spaces, hyphens and underscores dropped
// and spaces turned into hyphens; a repeated anchor gets -1, -2, ...
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	seen := map[string]int{}
	out := map[string]bool{}
	for _, line := range readMarkdown(t, path) {
		m := heading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := slugify(inlineLink.ReplaceAllString(m[1], "$1"))
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

func slugify(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
