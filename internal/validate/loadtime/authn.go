//go:build !appnet_lean

package loadtime

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Authentication filters that carry their credentials in the config: api_key_auth and basic_auth, for the filter
// and per route.

const (
	apiKeyAuthSource    = "source/extensions/filters/http/api_key_auth/api_key_auth.cc"
	apiKeyAuthHeader    = "source/extensions/filters/http/api_key_auth/api_key_auth.h"
	basicAuthSource     = "source/extensions/filters/http/basic_auth/config.cc"
	basicAuthHashLength = 28 // a base64 SHA-1
)

func init() {
	register("envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth", apiKeyAuthConfig)
	register("envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuthPerRoute", apiKeyAuthConfig)
	register("envoy.extensions.filters.http.basic_auth.v3.BasicAuth", basicAuthUsers)
	register("envoy.extensions.filters.http.basic_auth.v3.BasicAuthPerRoute", basicAuthUsers)
}

// apiKeyAuthConfig: every key source names where the key is, and a key identifies one client.
// Envoy: source/extensions/filters/http/api_key_auth/api_key_auth.cc:31 [http-filters-ab7968c5] — "One of
// 'header'/'query'/'cookie' must be set."; api_key_auth.h:117 [http-filters-09270d28] — "Duplicated credential
// key: '<key>'".
func apiKeyAuthConfig(c *Context, m protoreflect.Message) {
	var sources []*apikeyv3.KeySource
	var creds []*apikeyv3.Credential
	switch a := m.Interface().(type) {
	case *apikeyv3.ApiKeyAuth:
		sources, creds = a.GetKeySources(), a.GetCredentials()
	case *apikeyv3.ApiKeyAuthPerRoute:
		sources, creds = a.GetKeySources(), a.GetCredentials()
	default:
		return
	}
	for i, s := range sources {
		if s.GetHeader() == "" && s.GetQuery() == "" && s.GetCookie() == "" {
			c.envoyf(index(c.at("key_sources"), i), apiKeyAuthSource, "One of 'header'/'query'/'cookie' must be set.")
			return // Envoy stops at the first bad source
		}
	}
	seen := make(map[string]bool, len(creds))
	for i, cr := range creds {
		if seen[cr.GetKey()] {
			c.envoyf(index(c.at("credentials"), i)+".key", apiKeyAuthHeader, "Duplicated credential key: '%s'", cr.GetKey())
			return
		}
		seen[cr.GetKey()] = true
	}
}

// basicAuthUsers: inline users are htpasswd lines "name:{SHA}<base64 SHA-1>" (blank lines and # comments
// allowed), one per user. Users read from a file are the host's.
// Envoy: source/extensions/filters/http/basic_auth/config.cc:32, :39, :43, :47, :53 (readHtpasswd)
// [http-filters-3d3cec99] [http-filters-49a6ee20] [http-filters-61a95384] [http-filters-b2033d50]
// [http-filters-b3a75188] — "basic auth: invalid htpasswd format, username:password is expected", "basic auth:
// empty user name or password", "basic auth: duplicate users", "basic auth: unsupported htpasswd format: please use
// {SHA}", "basic auth: invalid htpasswd format, invalid SHA hash length".
func basicAuthUsers(c *Context, m protoreflect.Message) {
	var users *corev3.DataSource
	switch b := m.Interface().(type) {
	case *basicauthv3.BasicAuth:
		users = b.GetUsers()
	case *basicauthv3.BasicAuthPerRoute:
		users = b.GetUsers()
	}
	text, field, ok := dataSourceText(users)
	if !ok {
		return
	}
	if problem := htpasswdProblem(text); problem != "" {
		c.envoyf(c.at("users."+field), basicAuthSource, "basic auth: %s", problem)
	}
}

// htpasswdProblem reads htpasswd lines as readHtpasswd does (std::getline: split on '\n' only) and returns its
// complaint about the first bad line, or "".
func htpasswdProblem(text string) string {
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, hash, found := strings.Cut(line, ":")
		switch {
		case !found:
			return "invalid htpasswd format, username:password is expected"
		case name == "" || hash == "":
			return "empty user name or password"
		case seen[name]:
			return "duplicate users"
		case !strings.HasPrefix(hash, "{SHA}"):
			return "unsupported htpasswd format: please use {SHA}"
		case len(hash)-len("{SHA}") != basicAuthHashLength:
			return "invalid htpasswd format, invalid SHA hash length"
		}
		seen[name] = true
	}
	return ""
}
