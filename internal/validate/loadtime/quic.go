//go:build !appnet_lean

package loadtime

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	quicv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/quic/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// QUIC rules: the filter chains of a QUIC listener (listener_manager_impl.cc buildFilterChainInternal) and the QUIC
// transport sockets (source/common/quic/quic_{server,client}_transport_socket_factory.cc), which Envoy builds when
// it loads the listener or the cluster.

const (
	quicServerSource = "source/common/quic/quic_server_transport_socket_factory.cc"
)

func init() {
	register("envoy.extensions.transport_sockets.quic.v3.QuicDownstreamTransport", quicServerTransport)
	register("envoy.extensions.transport_sockets.quic.v3.QuicUpstreamTransport", quicClientTransport)
	// quic_options.go
	register("envoy.extensions.quic.server_preferred_address.v3.FixedServerPreferredAddressConfig", fixedPreferredAddress)
	register("envoy.extensions.quic.server_preferred_address.v3.DataSourceServerPreferredAddressConfig", dataSourcePreferredAddress)
	register("envoy.extensions.quic.connection_id_generator.quic_lb.v3.Config", quicLoadBalancer)
}

// quicServerTransport: QUIC does not authenticate clients with certificates when its mTLS runtime guard is off,
// and its proof source signs with an ECDSA key on a NIST curve (P-256; P-384 and P-521 too since 1.40) or an RSA
// key of at least 2048 bits (checked for certificates given inline; files and SDS secrets are the host's).
// Envoy: source/common/quic/quic_server_transport_socket_factory.cc:29 [listeners-d69d1403] (1.35-1.39
// unconditionally; 1.40 with envoy.reloadable_features.quic_mtls_server_enabled false), :82 [listeners-8e68d24d] —
// "TLS Client Authentication is not supported over QUIC", "Failed to deduce signature algorithm from public key:
// <details>" (envoy_quic_utils.cc deduceSignatureAlgorithmFromPublicKey).
func quicServerTransport(c *Context, m protoreflect.Message) {
	t, ok := m.Interface().(*quicv3.QuicDownstreamTransport)
	if !ok {
		return
	}
	tls := t.GetDownstreamTlsContext()
	// Envoy 1.40 authenticates QUIC clients unless its runtime guard is turned off; earlier releases refuse the
	// config. Only the refusal every release shares is reported: the guard set to false.
	if tls.GetRequireClientCertificate().GetValue() && !c.runtimeFlag("envoy.reloadable_features.quic_mtls_server_enabled", true) {
		c.envoyf(c.at("downstream_tls_context.require_client_certificate"), quicServerSource,
			"TLS Client Authentication is not supported over QUIC")
	}
	// Envoy 1.40 signs with P-384 and P-521 keys too, unless this runtime guard is off; earlier releases only with
	// P-256. Only what every release refuses is reported.
	extraCurves := c.runtimeFlag("envoy.reloadable_features.quic_support_additional_ecdsa_curves", true)
	for i, cert := range tls.GetCommonTlsContext().GetTlsCertificates() {
		pemData, ok := inlineText(cert.GetCertificateChain())
		if !ok {
			continue
		}
		if details := quicKeyProblem(pemData, extraCurves); details != "" {
			c.envoyf(index(c.at("downstream_tls_context.common_tls_context.tls_certificates"), i)+".certificate_chain", quicServerSource,
				"Failed to deduce signature algorithm from public key: %s", details)
		}
	}
}

// quicKeyProblem returns what deduceSignatureAlgorithmFromPublicKey says of the leaf certificate's key, or "" when
// QUIC can sign with it or the certificate does not parse (the TLS context reports that).
func quicKeyProblem(pemData string, extraCurves bool) string {
	block, _ := pem.Decode([]byte(pemData))
	if block == nil {
		return ""
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return ""
	}
	switch key := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		switch key.Curve {
		case elliptic.P256():
		case elliptic.P384(), elliptic.P521():
			if !extraCurves {
				return "Invalid leaf cert, only P-256 ECDSA certificates are supported"
			}
		default:
			return "Invalid leaf cert, only P-256, P-384 and P-521 ECDSA certificates are supported"
		}
	case *rsa.PublicKey:
		if key.Size() < 2048/8 {
			return "Invalid leaf cert, only RSA certificates with 2048-bit or larger keys are supported"
		}
	default:
		return "Invalid leaf cert, only RSA and ECDSA certificates are supported"
	}
	return ""
}

// quicClientTransport: the QUIC client does not take a certificate selector.
// Envoy: source/common/quic/quic_client_transport_socket_factory.cc:21 [listeners-3c2917c7] — "Client certificate
// selector not supported on QUIC".
func quicClientTransport(c *Context, m protoreflect.Message) {
	t, ok := m.Interface().(*quicv3.QuicUpstreamTransport)
	if ok && t.GetUpstreamTlsContext().GetCommonTlsContext().GetCustomTlsCertificateSelector() != nil {
		c.envoyf(c.at("upstream_tls_context.common_tls_context.custom_tls_certificate_selector"),
			"source/common/quic/quic_client_transport_socket_factory.cc", "Client certificate selector not supported on QUIC")
	}
}

// inlineText is inlineData as a string.
func inlineText(d *corev3.DataSource) (string, bool) {
	data, ok := inlineData(d)
	return string(data), ok
}
