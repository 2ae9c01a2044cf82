package configdump

import (
	"bytes"
	"io"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// BenchmarkRedact redacts a dump of 1000 clusters, each with a TLS transport socket.
func BenchmarkRedact(b *testing.B) {
	tlsCtx, _ := anypb.New(&tlsv3.UpstreamTlsContext{Sni: "backend.example", CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsCertificates: []*tlsv3.TlsCertificate{{CertificateChain: dataSource("PUBLIC"), PrivateKey: dataSource("KEY")}}}})
	cd := &adminv3.ClustersConfigDump{}
	for range 1000 {
		cl, _ := anypb.New(&clusterv3.Cluster{Name: "backend", TransportSocket: &corev3.TransportSocket{
			Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: tlsCtx}}})
		cd.StaticClusters = append(cd.StaticClusters, &adminv3.ClustersConfigDump_StaticCluster{Cluster: cl})
	}
	in := dumpJSON(b, cd)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Redact(bytes.NewReader(in), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
