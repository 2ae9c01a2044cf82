package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"time"
)

// promTemplateLimit bounds the files checked for {{scrape}} tokens; bigger files are
// streamed untouched so large-body tests measure the consumer, not the stand-in.
const promTemplateLimit = 1 << 20

var scrapeToken = regexp.MustCompile(`\{\{scrape(?:\*(\d+))?(?:\+(\d+))?\}\}`)

// expandScrape replaces {{scrape}}, {{scrape*K}} and {{scrape*K+B}} with n*K+B, so one
// file can model a counter that grows on every scrape.
func expandScrape(body []byte, n int64) []byte {
	return scrapeToken.ReplaceAllFunc(body, func(tok []byte) []byte {
		m := scrapeToken.FindSubmatch(tok)
		k, b := int64(1), int64(0)
		if len(m[1]) > 0 {
			k, _ = strconv.ParseInt(string(m[1]), 10, 64)
		}
		if len(m[2]) > 0 {
			b, _ = strconv.ParseInt(string(m[2]), 10, 64)
		}
		return []byte(strconv.FormatInt(n*k+b, 10))
	})
}

// servePrometheus serves STANDIN_PROM_FILE verbatim when set (filter and usedonly are
// not applied to it), otherwise the built-in stats in Envoy's Prometheus format.
func (s *standin) servePrometheus(w http.ResponseWriter, r *http.Request) {
	n := s.promScrapes.Add(1)
	sq, msg := parseStatsQuery(r.URL.Query())
	if msg != "" {
		writeText(w, http.StatusBadRequest, msg)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=UTF-8")
	if s.sc.promFile == "" {
		_ = streamOK(w, func(out io.Writer) error { return renderPrometheus(out, s.buildStats(), sq) })
		return
	}
	f, err := os.Open(s.sc.promFile)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "envoy-standin: cannot read STANDIN_PROM_FILE: "+err.Error()+"\n")
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if fi.Size() <= promTemplateLimit {
			body, err := io.ReadAll(f)
			if err != nil {
				writeText(w, http.StatusInternalServerError, "envoy-standin: "+err.Error()+"\n")
				return
			}
			if bytes.Contains(body, []byte("{{scrape")) {
				body = expandScrape(body, n)
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_ = streamOK(w, func(out io.Writer) error { _, err := out.Write(body); return err })
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	}
	_ = streamOK(w, func(out io.Writer) error { _, err := io.Copy(out, f); return err })
}

func (s *standin) serveServerInfo(w http.ResponseWriter, _ *http.Request) {
	o := s.opts
	component := ""
	for name, lv := range o.componentLevels {
		if component != "" {
			component += ","
		}
		component += name + ":" + lv
	}
	logFormat := "[%Y-%m-%d %T.%e][%t][%l][%n] [%g:%#] %v" // Envoy's default
	if o.logFormat != "" {
		logFormat = o.logFormat
	}
	nodeID, cluster := s.boot.nodeID, s.boot.nodeCluster
	if o.serviceNode != "" {
		nodeID = o.serviceNode
	}
	if o.serviceCluster != "" {
		cluster = o.serviceCluster
	}
	uptime := fmt.Sprintf("%ds", int64(time.Since(s.start)/time.Second))
	mode := map[string]string{"serve": "Serve", "validate": "Validate", "init_only": "InitOnly"}[o.mode]
	drainStrategy := map[string]string{"gradual": "Gradual", "immediate": "Immediate"}[o.drainStrategy]
	info := struct {
		Version            string         `json:"version"`
		State              string         `json:"state"`
		HotRestartVersion  string         `json:"hot_restart_version"`
		CommandLineOptions map[string]any `json:"command_line_options"`
		Node               map[string]any `json:"node"`
		UptimeCurrentEpoch string         `json:"uptime_current_epoch"`
		UptimeAllEpochs    string         `json:"uptime_all_epochs"`
	}{
		Version:           s.sc.version,
		State:             s.readyState(),
		HotRestartVersion: "disabled",
		CommandLineOptions: map[string]any{
			"base_id": strconv.Itoa(o.baseID), "concurrency": s.concurrency(), "config_path": o.configPath,
			"config_yaml": o.configYAML, "admin_address_path": o.adminAddressPath,
			"local_address_ip_version": o.ipVersion, "log_level": o.logLevel, "component_log_level": component,
			"log_format": logFormat, "log_format_escaped": o.logFormatEscaped, "log_path": o.logPath,
			"service_cluster": o.serviceCluster, "service_node": o.serviceNode, "service_zone": o.serviceZone,
			"drain_strategy": drainStrategy, "mode": mode, "disable_hot_restart": o.disableHotRestart,
			"restart_epoch": o.restartEpoch, "file_flush_interval": "10s",
			"drain_time": fmt.Sprintf("%ds", o.drainTimeS), "parent_shutdown_time": fmt.Sprintf("%ds", o.parentShutdownS),
			"skip_deprecated_logs": o.skipDeprecated, "enable_core_dump": o.enableCoreDump,
			"disabled_extensions": []string{}, "stats_tag": []string{},
		},
		Node:               map[string]any{"id": nodeID, "cluster": cluster, "user_agent_name": "envoy"},
		UptimeCurrentEpoch: uptime,
		UptimeAllEpochs:    uptime,
	}
	body, err := json.MarshalIndent(info, "", " ")
	if err != nil {
		writeText(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	writeText(w, http.StatusOK, string(body)+"\n")
}

func (s *standin) serveLogging(w http.ResponseWriter, r *http.Request) {
	if err := s.log.change(r.URL.Query()); err != nil {
		writeText(w, http.StatusNotFound, loggingUsage(err)+s.log.listing())
		return
	}
	writeText(w, http.StatusOK, s.log.listing())
}

// serveDrain stops listeners (all, or only inbound ones with ?inboundonly). As in Envoy,
// /ready stays LIVE; the listener gauges change, and downstream connections fall to 0
// after STANDIN_DRAIN_CX_AFTER if set.
func (s *standin) serveDrain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	_, inboundOnly := q["inboundonly"]
	_, graceful := q["graceful"]
	n := listenerCount
	if inboundOnly {
		n = 1
	}
	s.mu.Lock()
	if n > s.drained {
		s.drained = n
	}
	if s.drainedAt.IsZero() {
		s.drainedAt = time.Now()
	}
	s.mu.Unlock()
	s.log.logf("main", "info", "draining listeners (inboundonly=%t, graceful=%t)", inboundOnly, graceful)
	s.drainListeners(inboundOnly, graceful)
	writeText(w, http.StatusOK, "OK\n")
}

func (s *standin) serveHCFail(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.hcFailed = true
	s.mu.Unlock()
	writeText(w, http.StatusOK, "OK\n")
}

func (s *standin) serveHCOK(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.hcFailed = false
	s.mu.Unlock()
	writeText(w, http.StatusOK, "OK\n")
}

// serveQuit answers first and exits shortly after, so the caller sees "OK" as with Envoy.
func (s *standin) serveQuit(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "OK\n")
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	s.log.logf("main", "info", "shutting down server instance")
	go func() {
		time.Sleep(50 * time.Millisecond)
		s.exit(0, "quitquitquit")
	}()
}

func (s *standin) serveHotRestartVersion(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "disabled\n")
}

func (s *standin) serveOK(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "OK\n")
}

func (s *standin) serveMemory(w http.ResponseWriter, _ *http.Request) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w.Header().Set("Content-Type", "application/json")
	writeText(w, http.StatusOK, fmt.Sprintf("{\n \"allocated\": \"%d\",\n \"heap_size\": \"%d\"\n}\n", m.HeapAlloc, m.HeapSys))
}
