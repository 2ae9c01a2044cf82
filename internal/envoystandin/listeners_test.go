package main

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestListenersServeAndDrain: the bootstrap's static listeners answer with their name;
// /drain_listeners?inboundonly (not graceful) closes the inbound one at once and leaves the
// outbound one serving; a graceful drain of all closes the outbound one after --drain-time-s.
func TestListenersServeAndDrain(t *testing.T) {
	t.Parallel()
	boot := "admin: {address: {socket_address: {address: 127.0.0.1, port_value: %PORT%}}}\n" +
		"static_resources:\n  listeners:\n" +
		"  - {name: ingress, traffic_direction: INBOUND, address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n" +
		"  - {name: egress, traffic_direction: OUTBOUND, address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"
	p := start(t, runConfig{bootstrap: boot, args: []string{"-c", "%BOOT%", "--drain-time-s", "1"}})
	addr := map[string]string{}
	for _, ev := range p.events("listener_listening") {
		addr[fmt.Sprint(ev["name"])] = fmt.Sprint(ev["address"])
	}
	if len(addr) != 2 {
		t.Fatalf("listening: %v", addr)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	answer := func(name string) string {
		res, err := client.Get("http://" + addr[name] + "/anything")
		if err != nil {
			return "error"
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	if a, b := answer("ingress"), answer("egress"); a != "ingress\n" || b != "egress\n" {
		t.Fatalf("answers %q %q", a, b)
	}
	keepAlive := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer keepAlive.CloseIdleConnections()
	if res, err := keepAlive.Get("http://" + addr["egress"] + "/"); err != nil || res.Close {
		t.Fatalf("egress before any drain closes its connection: %v", err)
	} else {
		res.Body.Close()
	}
	if code, _ := p.post("/drain_listeners?inboundonly"); code != 200 {
		t.Fatal(code)
	}
	p.waitEvent("listener_stopped", startTimeout)
	if got := answer("ingress"); got != "error" {
		t.Errorf("ingress after an inbound drain: %q", got)
	}
	if got := answer("egress"); got != "egress\n" {
		t.Errorf("egress after an inbound drain: %q", got)
	}
	drained := time.Now()
	if code, _ := p.post("/drain_listeners?graceful"); code != 200 {
		t.Fatal(code)
	}
	res, err := keepAlive.Get("http://" + addr["egress"] + "/")
	if err != nil {
		t.Fatalf("egress during the graceful drain: %v", err)
	}
	res.Body.Close()
	if !res.Close {
		t.Errorf("egress during the graceful drain answers without Connection: close")
	}
	deadline := time.Now().Add(startTimeout)
	for answer("egress") != "error" {
		if time.Now().After(deadline) {
			t.Fatal("egress never closed after the graceful drain")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := time.Since(drained); d < 900*time.Millisecond {
		t.Errorf("egress closed %v after a graceful drain with --drain-time-s 1", d)
	}
}
