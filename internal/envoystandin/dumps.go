package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// SecretMarker starts every secret value the stand-in's /config_dump holds, so that tests can
// assert that none reaches a client of the agent (in clear, or base64 for bytes fields).
const SecretMarker = "STANDIN-SECRET-"

const (
	typeURLPrefix = "type.googleapis.com/"
	secretType    = typeURLPrefix + "envoy.extensions.transport_sockets.tls.v3.Secret"
)

func inlineString(name string) map[string]any {
	return map[string]any{"inline_string": SecretMarker + name}
}

func inlineBytes(name string) map[string]any {
	return map[string]any{"inline_bytes": base64.StdEncoding.EncodeToString([]byte(SecretMarker + name))}
}

// standinSecrets are SDS secrets of every kind Envoy's Secret has, as Envoy would dump them if
// it did not redact them itself: TLS certificates (private key, password, PKCS#12), session
// ticket keys, a validation context, and generic secrets (an HMAC secret, OAuth2 token and
// client secret).
func standinSecrets() []map[string]any {
	secret := func(name string, kind string, body map[string]any) map[string]any {
		return map[string]any{"@type": secretType, "name": name, kind: body}
	}
	return []map[string]any{
		secret("tls-cert", "tls_certificate", map[string]any{
			"certificate_chain": map[string]any{"inline_string": "-----BEGIN CERTIFICATE-----\nPUBLIC\n-----END CERTIFICATE-----\n"},
			"private_key":       inlineString("private-key"),
			"password":          inlineString("key-password"),
		}),
		secret("tls-pkcs12", "tls_certificate", map[string]any{"pkcs12": inlineBytes("pkcs12")}),
		secret("ticket-keys", "session_ticket_keys", map[string]any{"keys": []any{inlineBytes("session-ticket-key")}}),
		secret("validation", "validation_context", map[string]any{"trusted_ca": inlineString("trusted-ca")}),
		secret("hmac", "generic_secret", map[string]any{"secret": inlineBytes("hmac")}),
		secret("oauth2", "generic_secret", map[string]any{"secrets": map[string]any{
			"token": inlineString("oauth2-token"), "client_secret": inlineString("oauth2-client-secret")}}),
	}
}

// serveConfigDump answers a ConfigDump: the bootstrap as read, its static clusters and
// listeners, and the secrets dump with standinSecrets. Query parameters are recorded, not
// applied.
func (s *standin) serveConfigDump(w http.ResponseWriter, _ *http.Request) {
	var static, active, warming []any
	for _, sec := range standinSecrets() {
		name := sec["name"]
		static = append(static, map[string]any{"name": name, "secret": sec})
		active = append(active, map[string]any{"name": name, "version_info": "1", "secret": sec})
		warming = append(warming, map[string]any{"name": name, "version_info": "2", "secret": sec})
	}
	var clusters, listeners []any
	for _, c := range s.staticResources("clusters") {
		clusters = append(clusters, map[string]any{"cluster": withType(c, "envoy.config.cluster.v3.Cluster")})
	}
	for _, l := range s.staticResources("listeners") {
		listeners = append(listeners, map[string]any{"name": nameOf(l), "active_state": map[string]any{
			"listener": withType(l, "envoy.config.listener.v3.Listener")}})
	}
	dump := map[string]any{"configs": []any{
		map[string]any{"@type": typeURLPrefix + "envoy.admin.v3.BootstrapConfigDump", "bootstrap": s.boot.raw},
		map[string]any{"@type": typeURLPrefix + "envoy.admin.v3.ClustersConfigDump", "version_info": "", "static_clusters": clusters},
		map[string]any{"@type": typeURLPrefix + "envoy.admin.v3.ListenersConfigDump", "static_listeners": listeners},
		map[string]any{"@type": typeURLPrefix + "envoy.admin.v3.SecretsConfigDump", "static_secrets": static,
			"dynamic_active_secrets": active, "dynamic_warming_secrets": warming},
	}}
	writeJSON(w, dump)
}

// withType puts "@type" first, as Envoy does for an Any (the agent's redaction relies on it).
func withType(v any, typ string) json.RawMessage {
	body, _ := json.Marshal(v)
	head := fmt.Sprintf(`{"@type":%q`, typeURLPrefix+typ)
	if rest := strings.TrimPrefix(string(body), "{"); rest != "}" {
		return json.RawMessage(head + "," + rest)
	}
	return json.RawMessage(head + "}")
}

func (s *standin) staticResources(kind string) []any {
	sr, _ := field(s.boot.raw, "static_resources", "staticResources")
	list, _ := field(sr, kind)
	out, _ := list.([]any)
	return out
}

func nameOf(v any) string {
	n, _ := field(v, "name")
	return scalarString(n)
}

// serveClusters lists the static clusters: "NAME::observability_name::NAME" lines, or with
// ?format=json {"cluster_statuses":[{"name":...}]}.
func (s *standin) serveClusters(w http.ResponseWriter, r *http.Request) {
	var names []string
	for _, c := range s.staticResources("clusters") {
		names = append(names, nameOf(c))
	}
	if r.URL.Query().Get("format") == "json" {
		var st []any
		for _, n := range names {
			st = append(st, map[string]any{"name": n, "observability_name": n})
		}
		writeJSON(w, map[string]any{"cluster_statuses": st})
		return
	}
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s::observability_name::%s\n", n, n)
	}
	writeText(w, http.StatusOK, b.String())
}

// serveListeners lists the static listeners: "NAME::ADDRESS" lines, or with ?format=json
// {"listener_statuses":[{"name":...,"local_address":...}]}.
func (s *standin) serveListeners(w http.ResponseWriter, r *http.Request) {
	type entry struct{ name, addr string }
	var ls []entry
	for _, l := range s.staticResources("listeners") {
		a, _ := field(l, "address")
		sa, _ := field(a, "socket_address", "socketAddress")
		host, _ := field(sa, "address")
		port, _ := field(sa, "port_value", "portValue")
		ls = append(ls, entry{nameOf(l), scalarString(host) + ":" + scalarString(port)})
	}
	if r.URL.Query().Get("format") == "json" {
		var st []any
		for _, l := range ls {
			st = append(st, map[string]any{"name": l.name, "local_address": map[string]any{"socket_address": l.addr}})
		}
		writeJSON(w, map[string]any{"listener_statuses": st})
		return
	}
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "%s::%s\n", l.name, l.addr)
	}
	writeText(w, http.StatusOK, b.String())
}

// serveRuntime answers an empty runtime: no layers hold values.
func (s *standin) serveRuntime(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"entries": map[string]any{}, "layers": []any{"static_layer_0", "admin"}})
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		writeText(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	writeText(w, http.StatusOK, string(body)+"\n")
}
