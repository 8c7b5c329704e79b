package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// With healthLimited, healthyAnswers is how many more /healthz answers are healthy. Set from
// HELLO_FAULT so demos and go-ship's deploy tests can ship a version that fails its health checks.
var (
	healthLimited  atomic.Bool
	healthyAnswers atomic.Int64
)

type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
}

func newMux(info buildInfo) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if healthLimited.Load() && healthyAnswers.Add(-1) < 0 {
			http.Error(w, "unhealthy (HELLO_FAULT)", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Version", info.Version)
		_ = json.NewEncoder(w).Encode(info)
	})
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Version", info.Version)
		fmt.Fprintf(w, "hello, %s\n", greetee(r.URL.Query().Get("name")))
	})
	// /slow?ms=N answers after N milliseconds: lets tests hold a request in flight across a shutdown.
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 60000 {
			http.Error(w, "ms must be 0..60000", http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			fmt.Fprintf(w, "slept %dms\n", ms)
		case <-r.Context().Done():
		}
	})
	return mux
}

func greetee(name string) string {
	if name == "" {
		return "world"
	}
	return name
}
