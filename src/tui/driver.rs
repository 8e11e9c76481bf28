//! The interface without a terminal: the same `update` and effect runner, run synchronously
//! (background effects inline, search answered at once, the editor replaced by a canned text).
//! Tests and bug reproductions feed it messages, commands and keys.

use std::sync::Arc;

use crate::api::{Caller, Db, Source};
use crate::domain::{Actor, At};
use crate::server::Service;
use crate::store::Store;
use crate::tui::command::{Command, Context};
use crate::tui::effect::{Effect, run_store_effect};
use crate::tui::keymap::{KeySeq, Keymap};
use crate::tui::msg::Msg;
use crate::tui::search_bridge;
use crate::tui::state::State;
use crate::tui::update::{on_key, update};
use crate::tui::view::key_for;

/// The store under a driver, for tests to read and write directly (as another process would:
/// nothing is broadcast).
pub struct StoreHandle(Arc<Service>);

impl std::ops::Deref for StoreHandle {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0.store()
    }
}

impl StoreHandle {
    /// Tells the interface's server about writes made directly (as a server does after each
    /// commit): broadcast and the search index brought up to date.
    pub fn announce(&self) {
        self.0.catch_up();
    }
}

pub struct Driver {
    pub state: State,
    /// The interface's store operations, as the app makes them (in-process transport).
    pub db: Db,
    pub store: StoreHandle,
    pub actor: Actor,
    pub keymap: Keymap,
    /// What "the editor" returns for `open_editor`; `None` makes it fail.
    pub editor_text: Option<String>,
    /// What was put on "the clipboard".
    pub clipboard: Option<String>,
    /// While set, searches are not answered at once but held (as a slow worker would) until
    /// [`Driver::answer_searches`].
    pub hold_search: bool,
    held_searches: Vec<(u64, String)>,
    /// What the service pushes to this interface (others' commits, presence).
    events: std::sync::mpsc::Receiver<crate::api::Event>,
}

impl Driver {
    /// Starts on `store` with a pinned clock (UTC) and a terminal size.
    pub fn new(store: Store, keymap: Keymap, now: At, width: u16, height: u16) -> Driver {
        let mut state = State::new(now, jiff::tz::TimeZone::UTC, width, height);
        state.undo_keys = key_for(&keymap, &[Context::Global], Command::Undo).unwrap_or_default();
        state.agent = "tester".to_string();
        state.help_keys = crate::tui::view::help::key_index(&keymap);
        state.db_path = store.path().display().to_string();
        let service = Service::new(store, false);
        // As a server does in the background at start: the list's segment column and the
        // purchase filters have their columns from the first frame on.
        service.pin_analytics_day(crate::domain::Day::from_number(
            crate::analytics::summary::utc_day(now.millis()),
        ));
        let _ = service.ensure_customers();
        let caller = Caller {
            conn: service.connection(),
            ..Caller::local(Actor::new("tester"), Source::Tui)
        };
        state.conn = caller.conn;
        let db = Db::in_service(Arc::clone(&service), caller);
        let events = db.subscribe();
        let mut driver = Driver {
            state,
            events,
            db,
            store: StoreHandle(service),
            actor: Actor::new("tester"),
            keymap,
            editor_text: None,
            clipboard: None,
            hold_search: false,
            held_searches: Vec::new(),
        };
        driver.run(vec![Effect::Start]);
        driver
    }

    /// Another agent on the same service, as a second interface would be (its own connection).
    pub fn other_agent(&self, name: &str) -> Db {
        let service = &self.store.0;
        Db::in_service(
            Arc::clone(service),
            Caller {
                conn: service.connection(),
                ..Caller::local(Actor::new(name), Source::Tui)
            },
        )
    }

    /// Takes what the service pushed, as the app loop does each turn; how many events came.
    pub fn pump(&mut self) -> usize {
        let mut n = 0;
        while let Ok(event) = self.events.try_recv() {
            n += 1;
            self.send(Msg::Remote(event));
        }
        n
    }

    pub fn send(&mut self, msg: Msg) {
        let effects = update(&mut self.state, msg);
        self.run(effects);
    }

    pub fn command(&mut self, command: Command) {
        self.send(Msg::Command(command));
    }

    /// Presses keys as the keymap spells them, e.g. `"g g"`, `"ctrl-s"`, `"esc"`.
    pub fn keys(&mut self, spec: &str) {
        let seq: KeySeq = match spec.parse() {
            Ok(seq) => seq,
            Err(e) => panic!("bad key spec `{spec}`: {e:?}"),
        };
        for key in seq.keys() {
            let effects = on_key(&mut self.state, &self.keymap, *key);
            self.run(effects);
        }
    }

    /// Types text key by key through the keymap, as a person would.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let key = crate::tui::keymap::Key::plain(crate::tui::keymap::KeyCode::Char(c));
            let effects = on_key(&mut self.state, &self.keymap, key);
            self.run(effects);
        }
    }

    /// Answers the held searches as the worker does: only the newest one.
    pub fn answer_searches(&mut self) {
        let newest = self.held_searches.drain(..).next_back();
        if let Some((generation, query)) = newest {
            let hits = search_bridge::search(&self.db, &query);
            self.send(Msg::SearchResults { generation, hits });
        }
    }

    pub fn paste(&mut self, text: &str) {
        self.send(Msg::Paste(text.to_string()));
    }

    fn run(&mut self, effects: Vec<Effect>) {
        let mut queue: std::collections::VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            let messages = match effect {
                // The service keeps its index current after every write made through it.
                Effect::IndexSearch | Effect::IndexContact(_) => Vec::new(),
                Effect::Search { generation, query } if self.hold_search => {
                    self.held_searches.push((generation, query));
                    Vec::new()
                }
                Effect::Search { generation, query } => vec![Msg::SearchResults {
                    generation,
                    hits: search_bridge::search(&self.db, &query),
                }],
                Effect::OpenEditor(_) => vec![Msg::EditorDone(
                    self.editor_text
                        .clone()
                        .ok_or_else(|| "no editor".to_string()),
                )],
                Effect::CopyToClipboard(text) => {
                    self.clipboard = Some(text);
                    Vec::new()
                }
                Effect::Replay(keys) => {
                    let mut keys = keys.into_iter();
                    if let Some(key) = keys.next() {
                        let mut next: std::collections::VecDeque<Effect> =
                            on_key(&mut self.state, &self.keymap, key).into();
                        let rest: Vec<_> = keys.collect();
                        if !rest.is_empty() {
                            next.push_back(Effect::Replay(rest));
                        }
                        next.extend(queue.drain(..));
                        queue = next;
                    }
                    continue;
                }
                other => run_store_effect(&self.db, other),
            };
            for msg in messages {
                queue.extend(update(&mut self.state, msg));
            }
        }
    }
}
