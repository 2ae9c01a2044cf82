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
var notClusterRefs = map[string]string{
	"envoy.config.core.v3.Node.cluster":                                                      "the node's own service cluster",
	"envoy.config.endpoint.v3.ClusterLoadAssignment.cluster_name":                            "names the cluster it belongs to",
	"envoy.config.endpoint.v3.ClusterStats.cluster_name":                                     "load report data, not config",
	"envoy.data.accesslog.v3.AccessLogCommon.upstream_cluster":                               "access log data, not config",
	"envoy.extensions.clusters.aggregate.v3.ClusterConfig.clusters":                          "may name CDS clusters; resolved lazily",
	"envoy.extensions.clusters.dynamic_modules.v3.ClusterConfig.cluster_name":                "names the module's cluster implementation",
	"envoy.extensions.clusters.mcp_multicluster.v3.ClusterConfig.McpCluster.cluster":         "may name CDS clusters; resolved lazily",
	"envoy.extensions.filters.http.fault.v3.HTTPFault.upstream_cluster":                      "a match condition",
	"envoy.extensions.filters.network.reverse_tunnel.v3.ReverseTunnel.required_cluster_name": "a handshake value",
}

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
			if fd := md.Fields().ByName(f.name); fd == nil || fd.Kind() != protoreflect.StringKind {
				t.Errorf("%s.%s: no such string field", msg, f.name)
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
			if slices.ContainsFunc(clusterRefFields[md.FullName()], func(f refField) bool { return f.name == fd.Name() }) {
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
