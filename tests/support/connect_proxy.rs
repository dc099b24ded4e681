//! A tiny forward proxy on 127.0.0.1 standing in for a corporate one: it records each request
//! head (so tests can count CONNECTs and check Proxy-Authorization), then tunnels every
//! CONNECT to one fixed address whatever name it asks for (like a proxy resolving the made-up
//! names to the fixture) — or answers 407 when told to refuse.
#![allow(dead_code)]
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const IO_TIMEOUT: Duration = Duration::from_secs(30);

pub struct RecordingProxy {
    pub addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    pub fn start(target: SocketAddr, refuse: bool) -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind recording proxy");
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let sink = heads.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().map_while(Result::ok) {
                let sink = sink.clone();
                std::thread::spawn(move || serve_proxy_conn(conn, target, refuse, &sink));
            }
        });
        RecordingProxy { addr, heads }
    }

    /// Every request head received, in order.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// The value of the Proxy-Authorization header of each head (empty when absent).
    pub fn authorizations(&self) -> Vec<String> {
        self.heads()
            .iter()
            .map(|h| {
                h.lines()
                    .find_map(|l| {
                        l.split_once(':')
                            .filter(|(k, _)| k.eq_ignore_ascii_case("proxy-authorization"))
                            .map(|(_, v)| v.trim().to_string())
                    })
                    .unwrap_or_default()
            })
            .collect()
    }
}

fn serve_proxy_conn(
    mut client: TcpStream,
    target: SocketAddr,
    refuse: bool,
    heads: &Mutex<Vec<String>>,
) {
    let _ = client.set_read_timeout(Some(IO_TIMEOUT));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    heads
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&head).into_owned());
    if refuse {
        let _ = client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
              Proxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n",
        );
        return;
    }
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let _ = client.set_read_timeout(None);
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut u2);
        let _ = u2.shutdown(Shutdown::Write);
    });
    let (mut client, mut upstream) = (client, upstream);
    let _ = std::io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(Shutdown::Write);
    let _ = up.join();
}
