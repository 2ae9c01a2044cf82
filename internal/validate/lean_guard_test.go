package validate

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
	"github.com/appnet/appnet-agent/internal/validate/loadtime"
)

const extensionsPrefix = "github.com/envoyproxy/go-control-plane/envoy/extensions/"

// leanRuleGapsFile lists the rules the full build registers on message types the lean build resolves, which the
// lean build does not register yet: they sit in files tagged !appnet_lean because they reach extension types,
// and must move to untagged files (their extension branches behind a registry a tagged file fills). The guard
// compares it exactly, so a new gap fails and so does a closed one left in the list.
const leanRuleGapsFile = "testdata/lean-rule-gaps.txt"

// leanForbidden are packages (import path prefixes) the lean build must not link, each with why: the built-in
// templates do not need them, and their package initialisation costs start-up time (docs/DESIGN.md, the lean
// renderer).
var leanForbidden = map[string]string{
	"github.com/Masterminds/": "sprig and semver (1.2–1.5 ms of package init); the built-in templates call only " +
		"internal/render's builtInFuncs, so sprig belongs in files tagged //go:build !appnet_lean",
	"github.com/shopspring/decimal": "sprig's (0.4–0.5 ms of package init)",
}

// goCommand returns the go command, skipping the test where there is none.
func goCommand(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	return path
}

// TestLeanLinksNoOtherExtension: the lean build of the agent, the renderer and the validator links no Envoy
// extension package but those of the types the built-in templates emit (testdata/lean-types.txt) and what those
// import, and nothing of leanForbidden. A failure names the file that brings one in, to be tagged
// //go:build !appnet_lean, and the chain of imports (see docs/DESIGN.md, the lean renderer).
func TestLeanLinksNoOtherExtension(t *testing.T) {
	goCmd := goCommand(t)
	allowed := map[string]bool{}
	for _, pkg := range leanTemplateTypes(t) {
		allowed[pkg] = true
	}
	for _, main := range []string{".", "./internal/render", "./internal/validate"} {
		cmd := exec.Command(goCmd, "list", "-deps", "-tags", "appnet_lean", "-f",
			"{{.ImportPath}}|{{.Dir}}|{{join .GoFiles \",\"}}:{{range .Imports}} {{.}}{{end}}", main)
		cmd.Dir = testenv.RepoRoot()
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", main, err)
		}
		imports := map[string][]string{}
		files := map[string][]string{} // the Go files of each package, by path
		var root string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			head, deps, _ := strings.Cut(line, ":")
			pkg, rest, _ := strings.Cut(head, "|")
			dir, names, _ := strings.Cut(rest, "|")
			for _, name := range strings.Split(names, ",") {
				files[pkg] = append(files[pkg], filepath.Join(dir, name))
			}
			imports[pkg] = strings.Fields(deps)
			root = pkg // go list -deps prints the named package last
		}
		// The payload packages' own imports come with them (aws_request_signing needs common/aws).
		reach := maps.Clone(allowed)
		for queue := slices.Collect(maps.Keys(allowed)); len(queue) > 0; queue = queue[1:] {
			for _, imp := range imports[queue[0]] {
				if !reach[imp] {
					reach[imp] = true
					queue = append(queue, imp)
				}
			}
		}
		extensions := 0
		for pkg := range imports {
			for prefix, why := range leanForbidden {
				if strings.HasPrefix(pkg, prefix) {
					chain := testenv.ImportChain(imports, root, func(p string) bool { return p == pkg })
					t.Errorf("the lean build (-tags appnet_lean) of %s links %s: %s. Brought in by %s:\n  %s",
						main, pkg, why, importingFiles(t, files, chain), strings.Join(chain, "\n  → "))
				}
			}
			if !strings.HasPrefix(pkg, extensionsPrefix) && !strings.Contains(pkg, "/go-control-plane/contrib/") {
				continue
			}
			extensions++
			if !reach[pkg] {
				chain := testenv.ImportChain(imports, root, func(p string) bool { return p == pkg })
				t.Errorf("the lean build (-tags appnet_lean) of %s links %s, which no built-in template emits; tag %s "+
					"//go:build !appnet_lean (moving what untagged files need out of it). Imported by:\n  %s",
					main, pkg, importingFiles(t, files, chain), strings.Join(chain, "\n  → "))
			}
		}
		if extensions == 0 {
			t.Errorf("%s: no extension package at all in the lean build: the check looks at the wrong list", main)
		}
	}
}

// importingFiles names the files of the next-to-last package of chain that import its last one.
func importingFiles(t *testing.T, files map[string][]string, chain []string) string {
	t.Helper()
	if len(chain) < 2 {
		return "the importing file"
	}
	importer, imported := chain[len(chain)-2], chain[len(chain)-1]
	var names []string
	for _, path := range files[importer] {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if strings.Trim(imp.Path.Value, `"`) == imported {
				names = append(names, strings.TrimPrefix(path, testenv.RepoRoot()+"/"))
			}
		}
	}
	if len(names) == 0 {
		return "the file of " + importer + " that imports it"
	}
	return strings.Join(names, ", ")
}

// leanBuild runs scripts/leanrules built with -tags appnet_lean, asking which of names resolve: it returns the
// lean build's rule table and the names its registry resolves.
func leanBuild(t *testing.T, names []string) (rules, resolves map[string]bool) {
	t.Helper()
	cmd := exec.Command(goCommand(t), "run", "-tags", "appnet_lean", "./scripts/leanrules")
	cmd.Dir = testenv.RepoRoot()
	cmd.Stdin = strings.NewReader(strings.Join(names, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run -tags appnet_lean ./scripts/leanrules: %v\n%s", err, stderr.Bytes())
	}
	rules, resolves = map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), "\t")
		switch kind {
		case "rule":
			rules[rest] = true
		case "resolves":
			resolves[rest] = true
		}
	}
	return rules, resolves
}

// TestLeanRegistersEveryRuleItResolves: every rule the full build registers on a message type that the lean build
// resolves is registered in the lean build too, but for the listed gaps; and every type the templates emit resolves
// in the lean build.
func TestLeanRegistersEveryRuleItResolves(t *testing.T) {
	full := loadtime.RuleTable()
	var names []string
	for _, r := range full {
		msg, _, _ := strings.Cut(r, "\t")
		names = append(names, msg)
	}
	for name := range leanTemplateTypes(t) {
		names = append(names, string(name))
	}
	slices.Sort(names)
	names = slices.Compact(names)
	leanRules, resolves := leanBuild(t, names)

	for name := range leanTemplateTypes(t) {
		if !resolves[string(name)] {
			t.Errorf("the templates emit %s, which the lean build does not resolve: go test ./internal/validate -run TestLeanTemplateTypes -update", name)
		}
	}
	var gaps []string
	for _, r := range full {
		msg, _, _ := strings.Cut(r, "\t")
		if resolves[msg] && !leanRules[r] {
			gaps = append(gaps, r)
		}
	}
	for r := range leanRules {
		if !slices.Contains(full, r) {
			t.Errorf("the lean build registers %s, which the full build does not", r)
		}
	}
	want := "# Generated by TestLeanRegistersEveryRuleItResolves (-update): rules the full build registers on types\n" +
		"# the lean build resolves, missing from the lean build. Each is a rule to move to an untagged file.\n" +
		strings.Join(append(gaps, ""), "\n")
	if *update {
		if err := os.WriteFile(leanRuleGapsFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(leanRuleGapsFile)
	if err != nil || string(got) != want {
		t.Errorf("rules on types the lean build resolves, missing from it (message, rule), differ from %s:\n  %s\n"+
			"A new one: the rule sits in a file tagged !appnet_lean; move it to an untagged file. A closed one: "+
			"go test ./internal/validate -run TestLeanRegistersEveryRuleItResolves -update",
			leanRuleGapsFile, strings.Join(gaps, "\n  "))
	}
}

// TestLeanHooksConcernNoTemplateType: the hooks that files tagged !appnet_lean fill for untagged rules (their
// extension branches) concern only types the built-in templates do not emit. TestLeanRegistersEveryRuleItResolves
// compares rule tables and cannot see a hook: one keyed by a template type would have an untagged rule check a
// template's output in the full build and not in the lean one.
func TestLeanHooksConcernNoTemplateType(t *testing.T) {
	lean := leanTemplateTypes(t)
	hooks := loadtime.ExtensionHookTypes()
	if len(hooks) != 4 {
		t.Fatalf("%d hooks filled in the full build, want 4: the test looks at the wrong maps (%v)", len(hooks), hooks)
	}
	for hook, names := range hooks {
		for _, name := range names {
			if _, ok := lean[name]; ok {
				t.Errorf("the hook %s, which a file tagged !appnet_lean fills, concerns %s, which the built-in templates "+
					"emit: the lean build would check it with fewer rules; move that branch to an untagged file", hook, name)
			}
		}
	}
}
