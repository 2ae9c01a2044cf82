package golden

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"github.com/pmezard/go-difflib/difflib"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/appnet/appnet-agent/internal/validate"
)

// Mismatch is how a rendered bootstrap differs from the expected one.
type Mismatch struct {
	// Paths are the differing fields, e.g. static_resources.clusters[1].name
	// or node.metadata["aws.appmesh.platformInfo"].AvailabilityZone, in order.
	Paths []string
	// Diff is a unified diff of the two canonical YAML serialisations
	// (expected → rendered).
	Diff string
}

// String is the report of a mismatch: the differing fields, then the diff.
func (m *Mismatch) String() string {
	var b strings.Builder
	b.WriteString("differing fields:\n")
	for _, p := range m.Paths {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	b.WriteString(m.Diff)
	return b.String()
}

// maxPaths caps the field list; the diff shows everything.
const maxPaths = 20

// Compare compares two bootstraps as protos (so YAML vs JSON, key order,
// number spelling and Struct number types do not matter) and returns nil when
// they are equal. wantName and gotName label the two sides of the diff.
func Compare(want, got *bootstrapv3.Bootstrap, wantName, gotName string) (*Mismatch, error) {
	found := differingPaths(want, got)
	if len(found) == 0 {
		return nil, nil
	}
	wantYAML, err := validate.CanonicalYAML(want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", wantName, err)
	}
	gotYAML, err := validate.CanonicalYAML(got)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gotName, err)
	}
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        lines(wantYAML),
		B:        lines(gotYAML),
		FromFile: wantName,
		ToFile:   gotName,
		Context:  3,
	})
	if err != nil {
		return nil, err
	}
	paths := slices.Compact(found)
	if len(paths) > maxPaths {
		paths = append(paths[:maxPaths:maxPaths], fmt.Sprintf("… and %d more", len(paths)-maxPaths))
	}
	return &Mismatch{Paths: paths, Diff: diff}, nil
}

// lines splits text after each newline (difflib.SplitLines adds an empty last line).
func lines(text []byte) []string {
	l := strings.SplitAfter(string(text), "\n")
	if l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}

// Wrapper fields of the well-known Struct types, left out of paths so that
// node metadata reads as it is written.
var structWrappers = map[protoreflect.FullName]bool{
	"google.protobuf.Struct":    true,
	"google.protobuf.Value":     true,
	"google.protobuf.ListValue": true,
}

// writeMapKey writes a map key: .key when it is a plain identifier, else
// ["key"].
func writeMapKey(b *strings.Builder, key string) {
	if isIdent(key) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(key)
		return
	}
	b.WriteString("[" + strconv.Quote(key) + "]")
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
