package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/appnet/appnet-agent/internal/testenv"
	"github.com/appnet/appnet-agent/internal/validate"
)

// TestDifferingPathsMatchGoCmp holds differingPaths to the paths go-cmp with protocmp reports,
// which Compare used before issue 19: every ordered pair of the repository's expected golden
// bootstraps and real-world bootstraps must give the same paths, except within edited lists:
// where an element changed a lot, go-cmp reports it as removed and another as added (the whole
// element), and differingPaths, which aligns only equal elements, pairs them and reports their
// differing fields. Such pairs are counted; every path outside a list must still agree.
func TestDifferingPathsMatchGoCmp(t *testing.T) {
	var boots []*bootstrapv3.Bootstrap
	var names []string
	for _, pattern := range []string{testenv.Testdata("..", "golden", "*.json"), testenv.Testdata("bootstrap-real", "*.yaml")} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b, err := validate.Decode(data)
			if err != nil {
				continue // not every real-world file decodes: that is the validator's business
			}
			boots = append(boots, b)
			names = append(names, filepath.Base(f))
		}
	}
	if len(boots) < 40 {
		t.Fatalf("only %d bootstraps decoded; the corpus moved?", len(boots))
	}
	compared, skipped := 0, 0
	for i := range boots {
		for j := range boots {
			if i == j || (i+j)%9 != 0 { // a ninth of the pairs keeps the test short
				continue
			}
			ours := slices.Compact(differingPaths(boots[i], boots[j]))
			var r cmpReporter
			cmp.Equal(boots[i], boots[j], protocmp.Transform(), cmp.Reporter(&r))
			theirs := slices.Compact(r.paths)
			if slices.Equal(ours, theirs) {
				compared++
				continue
			}
			if !sameSet(ours, theirs) && listRealigned(ours, theirs) {
				skipped++
				continue
			}
			t.Errorf("%s → %s:\n ours   %q\n go-cmp %q", names[i], names[j], ours, theirs)
		}
	}
	t.Logf("%d pairs equal, %d realigned by go-cmp's similarity heuristics", compared, skipped)
	if compared < 2*skipped {
		t.Errorf("only %d of %d pairs gave go-cmp's paths exactly", compared, compared+skipped)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// listRealigned reports whether every path that only one side reports runs through a list
// element: go-cmp then paired other elements of an edited list.
func listRealigned(a, b []string) bool {
	for _, p := range append(slices.Clone(a), b...) {
		if slices.Contains(a, p) != slices.Contains(b, p) && !hasIndex(p) {
			return false
		}
	}
	return true
}

func hasIndex(p string) bool {
	for i := range len(p) - 1 {
		if p[i] == '[' && p[i+1] >= '0' && p[i+1] <= '9' {
			return true
		}
	}
	return false
}

// cmpReporter is the go-cmp reporter Compare used: the paths of the differing leaves.
type cmpReporter struct {
	path  cmp.Path
	paths []string
}

func (r *cmpReporter) PushStep(s cmp.PathStep) { r.path = append(r.path, s) }
func (r *cmpReporter) PopStep()                { r.path = r.path[:len(r.path)-1] }

func (r *cmpReporter) Report(res cmp.Result) {
	if !res.Equal() {
		r.paths = append(r.paths, cmpFieldPath(r.path))
	}
}

// cmpFieldPath renders a cmp path through protocmp messages as Compare did.
func cmpFieldPath(path cmp.Path) string {
	var b strings.Builder
	for i, step := range path {
		switch s := step.(type) {
		case cmp.MapIndex:
			key := fmt.Sprint(s.Key().Interface())
			parent, isMsg := cmpMessageAt(path, i-1)
			switch {
			case isMsg && parent.Descriptor().FullName() == "google.protobuf.Any":
				if key == "type_url" {
					b.WriteString(".@type")
				}
			case isMsg && structWrappers[parent.Descriptor().FullName()]:
			case isMsg:
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(key)
			default:
				writeMapKey(&b, key)
			}
		case cmp.SliceIndex:
			x, y := s.SplitKeys()
			idx := y
			if idx < 0 {
				idx = x
			}
			fmt.Fprintf(&b, "[%d]", idx)
		}
	}
	if b.Len() == 0 {
		return "(the whole bootstrap)"
	}
	return b.String()
}

func cmpMessageAt(path cmp.Path, i int) (protocmp.Message, bool) {
	if len(path) == 0 {
		return nil, false
	}
	vx, vy := path[max(i, 0)].Values()
	if !vx.IsValid() {
		vx = vy
	}
	if !vx.IsValid() || !vx.CanInterface() {
		return nil, false
	}
	m, ok := vx.Interface().(protocmp.Message)
	return m, ok
}
