package validate

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// notClusterRefs are string fields that look like cluster references but are not: reviewed against go-control-plane
// envoy v1.40.0. Keys are "message.field".
var notClusterRefs = map[string]string{}

// looksLikeClusterRef is the name pattern of fields that may hold a cluster name.
func looksLikeClusterRef(fd protoreflect.FieldDescriptor) bool {
	if fd.Kind() != protoreflect.StringKind {
		return false
	}
	n := string(fd.Name())
	return n == "cluster" || n == "clusters" || n == "cluster_name" || n == "cluster_names" ||
		strings.HasSuffix(n, "_cluster") || strings.HasSuffix(n, "_cluster_name")
}

// TestClusterRefTable fails when the table names a message or field that does not exist, or when go-control-plane
// gains a field that looks like a cluster reference and is in neither list: classify it before upgrading.
func TestClusterRefTable(t *testing.T) {
	for msg, fields := range clusterRefFields {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(msg)
		if err != nil {
			t.Errorf("%s: %v", msg, err)
			continue
		}
		md := d.(protoreflect.MessageDescriptor)
		for _, f := range fields {
			if fd := md.Fields().ByName(f); fd == nil || fd.Kind() != protoreflect.StringKind {
				t.Errorf("%s.%s: no such string field", msg, f)
			}
		}
	}
	var unclassified []string
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		md := mt.Descriptor()
		if legacyEnvoyType(md) {
			return true
		}
		for i := 0; i < md.Fields().Len(); i++ {
			fd := md.Fields().Get(i)
			if !looksLikeClusterRef(fd) {
				continue
			}
			key := string(md.FullName()) + "." + string(fd.Name())
			if slices.Contains(clusterRefFields[md.FullName()], fd.Name()) {
				continue
			}
			if _, ok := notClusterRefs[key]; !ok {
				unclassified = append(unclassified, key)
			}
		}
		return true
	})
	slices.Sort(unclassified)
	for _, k := range unclassified {
		t.Errorf("unclassified cluster-like field %s", k)
	}
}
