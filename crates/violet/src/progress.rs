//! Push progress: one `indicatif` bar per image on a terminal, plain lines otherwise, and the
//! byte/blob totals for the summary.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use oci::progress::{Event, Sink, Totals, Transfer};

/// How progress is shown.
#[derive(Clone)]
pub enum Display {
    Bars(MultiProgress),
    Lines,
}

impl Display {
    pub fn new(bars: bool) -> Display {
        if bars {
            Display::Bars(MultiProgress::new())
        } else {
            Display::Lines
        }
    }

    /// Prints a line without tearing the bars.
    pub fn println(&self, line: &str) {
        match self {
            Display::Bars(m) => {
                let _ = m.println(line);
            }
            Display::Lines => println!("{line}"),
        }
    }
}

/// Progress of one image.
pub struct ImageProgress {
    name: String,
    bar: Option<ProgressBar>,
    display: Display,
    done: Mutex<HashMap<oci::Digest, u64>>,
    pub totals: Arc<Totals>,
    started: Instant,
}

impl ImageProgress {
    pub fn new(display: &Display, name: &str, bytes: u64) -> Arc<ImageProgress> {
        let bar = match display {
            Display::Bars(m) => {
                let b = m.add(ProgressBar::new(bytes));
                b.set_style(
                    ProgressStyle::with_template(
                        "{prefix:40!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                b.set_prefix(name.to_string());
                Some(b)
            }
            Display::Lines => {
                println!("pushing {name} ({bytes} bytes)");
                None
            }
        };
        Arc::new(ImageProgress {
            name: name.to_string(),
            bar,
            display: display.clone(),
            done: Mutex::default(),
            totals: Arc::new(Totals::default()),
            started: Instant::now(),
        })
    }

    /// The sink handed to the copy engine: updates this image's bar and the overall totals.
    pub fn sink(self: &Arc<Self>, overall: &Arc<Totals>) -> Sink {
        let me = self.clone();
        let forward = overall.sink(oci::progress::none());
        self.totals.sink(Arc::new(move |e: &Event| {
            forward(e);
            me.on(e)
        }))
    }

    fn on(&self, e: &Event) {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            Event::BlobBytes {
                digest, done: d, ..
            } => {
                done.insert(digest.clone(), *d);
            }
            Event::BlobDone {
                digest,
                size,
                transfer,
            } => {
                done.insert(digest.clone(), *size);
                if self.bar.is_none() && *transfer != Transfer::Existing {
                    println!(
                        "  {} blob {digest} {size} bytes {}",
                        self.name,
                        how(transfer)
                    );
                }
            }
            _ => {}
        }
        if let Some(b) = &self.bar {
            b.set_position(done.values().sum());
        }
    }

    pub fn finish(&self, digest: &oci::Digest) {
        let t = &self.totals;
        let line = format!(
            "pushed {} {digest}: {} blobs sent ({} resumed), {} already there, {} mounted, {} bytes in {:.1?}",
            self.name,
            Totals::get(&t.blobs_sent),
            Totals::get(&t.blobs_resumed),
            Totals::get(&t.blobs_existing),
            Totals::get(&t.blobs_mounted),
            Totals::get(&t.bytes_sent),
            self.started.elapsed()
        );
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        self.display.println(&line);
    }

    pub fn abandon(&self) {
        if let Some(b) = &self.bar {
            b.abandon();
        }
    }
}

fn how(t: &Transfer) -> &'static str {
    match t {
        Transfer::Existing => "already there",
        Transfer::Mounted => "mounted",
        Transfer::Sent { resumed_at } if *resumed_at > 0 => "sent (resumed)",
        Transfer::Sent { .. } => "sent",
    }
}
