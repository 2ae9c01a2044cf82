package supervise

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/lifecycle"
)

// maxLine bounds how much of one line is held in memory. A longer line (no newline for 1 MiB)
// is written in 1 MiB pieces: the only case where a line is split.
const maxLine = 1 << 20

// forwarders copies Envoy's stdout and stderr, read from pipes, to the agent's writers one
// whole line per Write, so a line is never torn by another writer (the agent's own logs share
// the log file) and never split across rotated files (R7).
type forwarders struct {
	log   hclog.Logger
	wg    sync.WaitGroup
	mu    sync.Mutex
	files map[*os.File]bool
}

// start copies r to w until EOF, then closes r.
func (f *forwarders) start(r *os.File, w io.Writer, stream string) {
	f.mu.Lock()
	if f.files == nil {
		f.files = map[*os.File]bool{}
	}
	f.files[r] = true
	f.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		br := bufio.NewReaderSize(r, 64<<10) // outlives a panic: what it holds is not lost
		for {
			// The pipe must be drained whatever happens, or Envoy blocks on a full pipe: a
			// panic (a bug in a writer) is logged and copying goes on.
			err := lifecycle.Safely(func() error { return copyLines(br, w) })
			var pe *lifecycle.PanicError
			if errors.As(err, &pe) {
				f.log.Error("Copying Envoy's "+stream+" panicked; copying on. This is a bug; the stack:\n"+string(pe.Stack), "panic", fmt.Sprint(pe.Value))
				continue
			}
			if err != nil {
				f.log.Warn("Envoy output lost: cannot write it", "stream", stream, "error", err)
			}
			break
		}
		f.mu.Lock()
		delete(f.files, r)
		f.mu.Unlock()
		_ = r.Close()
	}()
}

// finish waits up to grace for every pipe to reach EOF (all writers gone), then interrupts
// the reads still blocked (a process outside Envoy's group may hold a pipe open) and waits
// for the goroutines to end. Lines already read are written first.
func (f *forwarders) finish(grace time.Duration) {
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	f.mu.Lock()
	for r := range f.files {
		_ = r.SetReadDeadline(time.Now())
	}
	f.mu.Unlock()
	<-done
}

// copyLines writes each line of br (newline included) to w with one Write. A last line
// without a newline gets one, so the next writer's line does not run on. Write errors are
// reported once but reading goes on: a stalled pipe would block Envoy.
func copyLines(br *bufio.Reader, w io.Writer) error {
	var long []byte
	var werr error
	write := func(b []byte) {
		if _, err := w.Write(b); err != nil && werr == nil {
			werr = err
		}
	}
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			if len(long) >= maxLine {
				write(long)
				long = long[:0]
			}
			continue
		}
		line := chunk
		if len(long) > 0 {
			long = append(long, chunk...)
			line = long
		}
		if err != nil && len(line) > 0 {
			line = append(line, '\n')
		}
		if len(line) > 0 {
			write(line)
		}
		long = long[:0]
		if err != nil {
			return werr
		}
	}
}
