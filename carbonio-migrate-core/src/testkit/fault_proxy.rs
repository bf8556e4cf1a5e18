//! A loopback TCP proxy that injects faults: it cuts or stalls a connection
//! after a number of bytes in one direction (mid-FETCH, mid-APPEND), for the
//! first K connections, and can add a fixed one-way latency to every chunk.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::{Error, Result};

/// Size of one read; with [`CHUNKS_IN_FLIGHT`] it bounds the memory of a
/// connection direction (4 MiB), whatever the latency.
const CHUNK_SIZE: usize = 64 * 1024;
/// Chunks read but not yet written, per direction: 4 MiB in flight, about
/// the TCP window Linux grows to on a WAN (`tcp_rmem` allows 6 MiB), so with
/// latency the proxy limits throughput the way a real link does (4 MiB per
/// round trip) and not below it.
const CHUNKS_IN_FLIGHT: usize = 64;
/// How long dropping the proxy waits for its sockets to close.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// Which way bytes flow through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the client to the target server (commands, APPEND literals).
    ClientToServer,
    /// From the target server to the client (greeting, responses, FETCH data).
    ServerToClient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    Cut,
    Stall(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fault {
    direction: Direction,
    after_bytes: u64,
    kind: FaultKind,
}

/// What the proxy does to the connections it relays.
///
/// Built from [`pass_through`](FaultPlan::pass_through),
/// [`cut_after`](FaultPlan::cut_after) or [`stall_after`](FaultPlan::stall_after),
/// then narrowed with [`for_first_connections`](FaultPlan::for_first_connections)
/// and [`with_latency`](FaultPlan::with_latency).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    fault: Option<Fault>,
    faulty_connections: Option<usize>,
    latency: Duration,
}

impl FaultPlan {
    /// Relays every byte unchanged.
    pub fn pass_through() -> Self {
        Self::default()
    }

    /// Relays exactly `bytes` bytes in `direction`, then closes both sides of
    /// the connection (the client sees the stream end, as on a dropped link).
    pub fn cut_after(direction: Direction, bytes: u64) -> Self {
        Self {
            fault: Some(Fault {
                direction,
                after_bytes: bytes,
                kind: FaultKind::Cut,
            }),
            ..Self::default()
        }
    }

    /// Relays `bytes` bytes in `direction`, then holds the rest of that
    /// direction for `duration` before relaying it normally.
    pub fn stall_after(direction: Direction, bytes: u64, duration: Duration) -> Self {
        Self {
            fault: Some(Fault {
                direction,
                after_bytes: bytes,
                kind: FaultKind::Stall(duration),
            }),
            ..Self::default()
        }
    }

    /// Applies the fault only to the first `count` connections (0-based order
    /// of acceptance); later ones pass through. Without it, every connection.
    pub fn for_first_connections(mut self, count: usize) -> Self {
        self.faulty_connections = Some(count);
        self
    }

    /// Delays every chunk by `one_way` in each direction, preserving order and
    /// without limiting throughput: a round trip gains `2 * one_way`
    /// (10 ms gives the 20 ms RTT of the benchmark mode). Applies to every
    /// connection.
    pub fn with_latency(mut self, one_way: Duration) -> Self {
        self.latency = one_way;
        self
    }

    fn fault_for(&self, connection: usize) -> Option<Fault> {
        match self.faulty_connections {
            Some(count) if connection >= count => None,
            _ => self.fault,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    seen: AtomicUsize,
    cut: AtomicUsize,
    stalled: AtomicUsize,
}

/// A running proxy on 127.0.0.1 in front of a loopback target.
///
/// It runs on its own small runtime, so it works from sync and async tests
/// alike; dropping it stops it and closes every relayed connection.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    counters: Arc<Counters>,
    runtime: Option<tokio::runtime::Runtime>,
    stop: watch::Sender<bool>,
    /// Disconnects once every task holding a clone of its sender (the accept
    /// loop and each relay) has ended, i.e. all sockets are closed.
    stopped: std::sync::mpsc::Receiver<()>,
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and relays each connection to
    /// `target` according to `plan`.
    ///
    /// Refuses a non-loopback target ([`Error::InvalidValue`]): the proxy is a
    /// test tool and must not reach out of the machine.
    pub fn start(target: SocketAddr, plan: FaultPlan) -> Result<FaultProxy> {
        if !target.ip().is_loopback() {
            return Err(Error::InvalidValue {
                what: "fault proxy target",
                value: target.to_string(),
                reason: "only loopback addresses are allowed".to_string(),
            });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fault-proxy")
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the fault proxy runtime", e))?;
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| Error::io("binding the fault proxy on 127.0.0.1", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("reading the fault proxy address", e))?;
        let listener = {
            let _context = runtime.enter();
            TcpListener::from_std(listener)
                .map_err(|e| Error::io("registering the fault proxy listener", e))?
        };
        let counters = Arc::new(Counters::default());
        let (stop, stop_seen) = watch::channel(false);
        let (alive, stopped) = std::sync::mpsc::channel();
        let tasks = Tasks {
            stop: stop_seen,
            _alive: alive,
        };
        runtime.spawn(accept_loop(
            listener,
            target,
            plan,
            Arc::clone(&counters),
            tasks,
        ));
        Ok(FaultProxy {
            addr,
            counters,
            runtime: Some(runtime),
            stop,
            stopped,
        })
    }

    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The proxy's address (127.0.0.1 and [`port`](FaultProxy::port)).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn connections_seen(&self) -> usize {
        self.counters.seen.load(Ordering::SeqCst)
    }

    /// Connections closed by a cut fault so far.
    pub fn connections_cut(&self) -> usize {
        self.counters.cut.load(Ordering::SeqCst)
    }

    /// Connections that have been held by a stall fault so far.
    pub fn connections_stalled(&self) -> usize {
        self.counters.stalled.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // The tasks close their sockets on the signal; waiting for them makes
        // "dropped" mean "port closed" for the next line of a test. The wait
        // runs on the proxy's own threads, so it cannot block the caller's
        // runtime. shutdown_background: a blocking runtime drop panics inside
        // an async test.
        let _ = self.stop.send(true);
        let _ = self.stopped.recv_timeout(STOP_TIMEOUT);
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// What each task of the proxy holds: the stop signal, and a token whose drop
/// tells [`FaultProxy`]'s `Drop` that the task (and its sockets) are gone.
#[derive(Clone)]
struct Tasks {
    stop: watch::Receiver<bool>,
    /// Never sent on: only its drop matters.
    _alive: std::sync::mpsc::Sender<()>,
}

impl Tasks {
    async fn stopped(&mut self) {
        // An error means the sender is gone, which also means stop.
        let _ = self.stop.wait_for(|stop| *stop).await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    plan: FaultPlan,
    counters: Arc<Counters>,
    mut tasks: Tasks,
) {
    loop {
        let accepted = tokio::select! {
            () = tasks.stopped() => break,
            accepted = listener.accept() => accepted,
        };
        let client = match accepted {
            Ok((client, _)) => client,
            Err(_) => {
                // Out of descriptors and the like: back off rather than spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let index = counters.seen.fetch_add(1, Ordering::SeqCst);
        let fault = plan.fault_for(index);
        let latency = plan.latency;
        let counters = Arc::clone(&counters);
        let mut relay_tasks = tasks.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = relay_tasks.stopped() => {}
                () = relay(client, target, fault, latency, counters) => {}
            }
            drop(relay_tasks);
        });
    }
    // In this order: `Drop for FaultProxy` returns when `tasks` goes, and by
    // then the port must be closed (parameters would drop in reverse order).
    drop(listener);
    drop(tasks);
}

/// How one direction of a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PumpEnd {
    /// The sender closed its side; the close was passed on.
    Eof,
    /// The receiver is gone.
    Closed,
    /// A cut fault fired.
    Cut,
}

async fn relay(
    client: TcpStream,
    target: SocketAddr,
    fault: Option<Fault>,
    latency: Duration,
    counters: Arc<Counters>,
) {
    // A refused target shows to the client as a connection closed at once.
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    // Small IMAP lines must not wait for Nagle; the proxy must not add delay.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let fault_in = |direction| fault.filter(|f| f.direction == direction);
    let up = pump(
        client_read,
        server_write,
        fault_in(Direction::ClientToServer),
        latency,
        &counters,
    );
    let down = pump(
        server_read,
        client_write,
        fault_in(Direction::ServerToClient),
        latency,
        &counters,
    );
    tokio::pin!(up, down);
    // A cut ends the task at once, dropping (closing) all four halves; an
    // orderly end of one direction leaves the other running (half-close).
    let end = tokio::select! {
        end = &mut up => if end == PumpEnd::Cut { end } else { down.await },
        end = &mut down => if end == PumpEnd::Cut { end } else { up.await },
    };
    if end == PumpEnd::Cut {
        counters.cut.fetch_add(1, Ordering::SeqCst);
    }
}

enum Chunk {
    Data(Bytes, Instant),
    Stall(Duration),
    Cut,
}

/// Relays one direction. Reading and writing are decoupled by a bounded queue
/// so that latency delays each chunk without serialising the delays.
async fn pump(
    mut reader: OwnedReadHalf,
    mut writer: OwnedWriteHalf,
    fault: Option<Fault>,
    latency: Duration,
    counters: &Counters,
) -> PumpEnd {
    let (queue, mut chunks) = mpsc::channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let read_side = async move {
        let mut fault = fault;
        let mut buffer = vec![0u8; CHUNK_SIZE];
        loop {
            let n = match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let now = Instant::now();
            let mut data = &buffer[..n];
            if let Some(f) = fault {
                let before_fault = usize::try_from(f.after_bytes).unwrap_or(usize::MAX);
                if data.len() >= before_fault {
                    let (head, tail) = data.split_at(before_fault);
                    if !head.is_empty()
                        && queue
                            .send(Chunk::Data(Bytes::copy_from_slice(head), now))
                            .await
                            .is_err()
                    {
                        return;
                    }
                    match f.kind {
                        FaultKind::Cut => {
                            let _ = queue.send(Chunk::Cut).await;
                            return;
                        }
                        FaultKind::Stall(duration) => {
                            if queue.send(Chunk::Stall(duration)).await.is_err() {
                                return;
                            }
                            fault = None;
                            data = tail;
                        }
                    }
                } else {
                    fault = Some(Fault {
                        after_bytes: f.after_bytes - data.len() as u64,
                        ..f
                    });
                }
            }
            if !data.is_empty()
                && queue
                    .send(Chunk::Data(Bytes::copy_from_slice(data), now))
                    .await
                    .is_err()
            {
                return;
            }
        }
        // Dropping `queue` here tells the write side the sender is done.
    };
    let write_side = async move {
        while let Some(chunk) = chunks.recv().await {
            match chunk {
                Chunk::Data(bytes, read_at) => {
                    tokio::time::sleep_until(read_at + latency).await;
                    if writer.write_all(&bytes).await.is_err() {
                        return PumpEnd::Closed;
                    }
                }
                Chunk::Stall(duration) => {
                    counters.stalled.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(duration).await;
                }
                Chunk::Cut => return PumpEnd::Cut,
            }
        }
        let _ = writer.shutdown().await;
        PumpEnd::Eof
    };
    let ((), end) = tokio::join!(read_side, write_side);
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_to_the_first_connections_only() {
        let plan = FaultPlan::cut_after(Direction::ServerToClient, 10).for_first_connections(2);
        assert!(plan.fault_for(0).is_some());
        assert!(plan.fault_for(1).is_some());
        assert_eq!(plan.fault_for(2), None);
        let always = FaultPlan::cut_after(Direction::ClientToServer, 10);
        assert!(always.fault_for(1000).is_some());
        assert_eq!(FaultPlan::pass_through().fault_for(0), None);
    }

    #[test]
    fn non_loopback_targets_are_refused() {
        let err = FaultProxy::start("192.0.2.1:143".parse().unwrap(), FaultPlan::pass_through())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid fault proxy target \"192.0.2.1:143\": only loopback addresses are allowed"
        );
    }
}
