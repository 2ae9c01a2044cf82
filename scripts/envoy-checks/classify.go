package main

import (
	"regexp"
	"strings"

	"github.com/appnet/appnet-agent/internal/envoychecks"
)

// The extractor's guess of a new row's class, always with a note starting envoychecks.AutoNote, so that a reviewer
// can tell guesses from decisions. When in doubt it guesses to-do: a guess may lower the coverage figure, never
// raise it.

var (
	// runtimeFunctionRE: functions that run per request, per connection or per xDS update, not at load.
	runtimeFunctionRE = regexp.MustCompile(`(?:^|::)(?:(?:decode|encode)(?:Headers|Data|Trailers|Metadata|1xxHeaders)\w*|` +
		`on(?:Data|NewConnection|Accept|Read|Write|Event|Receive\w*|Message\w*|Success|Failure|ConfigUpdate|StreamDecoded|` +
		`Headers|Body|Trailers|Timeout|Complete|Response\w*|Request\w*|Connected|RemoteClose|LocalClose|Reset\w*|Below\w*|` +
		`Above\w*|Packet\w*|Datagram\w*|Frame\w*|Upstream\w*|Downstream\w*|Decoded\w*|Fetch\w*)|dispatch\w*|extract\w*|` +
		`handle\w*Request|process\w*Request|doRead|doWrite|read|write)$`)
	// runtimeFiles: files whose code runs per request or connection, or on xDS updates after start.
	runtimeFiles = []string{
		"source/common/http/http1/", "source/common/http/http2/", "source/common/http/http3/",
		"source/common/http/conn_manager_impl.cc", "source/common/http/filter_manager.cc",
		"source/common/http/async_client_impl.cc", "source/common/http/codec_client.cc",
		"source/common/router/upstream_request.cc", "source/common/quic/", "source/common/network/connection_impl.cc",
		"source/common/network/io_socket_handle_impl.cc", "source/common/tls/ssl_socket.cc",
		"source/common/tls/ssl_handshaker.cc", "source/common/grpc/async_client_impl.cc",
		"source/common/grpc/google_async_client_impl.cc", "source/common/config/grpc_mux_impl.cc",
		"source/common/config/new_grpc_mux_impl.cc", "source/common/config/xds_mux/",
		"source/extensions/config_subscription/grpc/grpc_mux", "source/extensions/config_subscription/grpc/new_grpc_mux",
		"source/extensions/config_subscription/grpc/xds_mux/", "source/server/admin/", "source/server/worker_impl.cc",
	}
	// wireCodeRE: files that encode and decode traffic (protocol codecs, serializers, parsers of what peers send):
	// their errors are about bytes on a connection, not configuration.
	wireCodeRE = regexp.MustCompile(`/[a-z0-9_]*(?:protocol|transport|serializer|codec|decoder|encoder|parser|bson|` +
		`buffer_helper|heartbeat|app_exception|active_message|span_context_extractor)[a-z0-9_]*\.(?:cc|h)$`)
	// hostRE: messages about what only the host or the build knows.
	hostRE = regexp.MustCompile(`(?i)\bfile|filename|director(?:y|ies)|failed to (?:load|read|open)|unable to (?:load|read|open)|` +
		`cannot (?:load|read|open)|does not exist|no such|not found on|environment variable|getaddrinfo|dns resol|` +
		`\bbind\b|setsockopt|socket option|platform|not compiled|in this build|built with|not enabled in the build|` +
		`kernel|cgroup|/proc|sysctl|network namespace|netns|interface name|\bPEM\b|private key|load.*certificate`)
	// adminKeep: admin files that do handle configuration at load.
	adminKeep = []string{"source/server/admin/admin.cc"}
)

func guess(path string, s site) (envoychecks.Class, string) {
	auto := func(c envoychecks.Class, why string) (envoychecks.Class, string) {
		return c, envoychecks.AutoNote + " " + why
	}
	switch {
	case s.kind == "panic":
		return auto(envoychecks.NotReached, "PANIC marks code a valid configuration does not reach")
	case !s.literal:
		return auto(envoychecks.Propagates, "the message is built elsewhere and passed on")
	case runtimeFile(path):
		return auto(envoychecks.NotReached, "the file runs per request, per connection or on xDS updates")
	case wireCodeRE.MatchString(path) && !strings.HasSuffix(path, "/config.cc"):
		return auto(envoychecks.NotReached, "the file encodes or decodes traffic")
	case runtimeFunctionRE.MatchString(s.function):
		return auto(envoychecks.NotReached, "raised in "+s.function+", which runs after load")
	case hostRE.MatchString(s.message):
		return auto(envoychecks.NeedsHost, "the message is about files, the network, the platform or the build")
	}
	return auto(envoychecks.ToDo, "no reason to think it is not decidable")
}

func runtimeFile(path string) bool {
	for _, k := range adminKeep {
		if path == k {
			return false
		}
	}
	for _, f := range runtimeFiles {
		if strings.HasPrefix(path, f) {
			return true
		}
	}
	return false
}
