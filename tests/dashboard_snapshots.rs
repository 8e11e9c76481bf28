//! The dashboard screen (`A` in the default keymap): snapshots at 80×24 and 120×40 on demo data
//! with a pinned clock, in colour and without; its figures are the reports' figures; `esc`
//! goes back to the list; an empty database says how to get data.

use rolo::analytics::reports;
use rolo::demo::Generator;
use rolo::domain::{Actor, At};
use rolo::store::Store;
use rolo::tui::driver::Driver;
use rolo::tui::keymap::Keymap;
use rolo::tui::msg::Msg;
use rolo::tui::state::Screen;
use rolo::tui::theme::{ColorSupport, Theme};
use rolo::tui::view::view;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// 2025-11-24T16:00:00Z.
const NOW: i64 = 1_764_000_000_000;

fn demo_store(count: u64) -> Store {
    let store = Store::in_memory().expect("store");
    let mut generator = Generator::new(7, At::from_millis(NOW), count);
    store
        .bulk(&Actor::new("demo"), "demo", |bulk| {
            for _ in 0..count {
                let person = generator.person();
                let id = bulk.add_contact(person.contact, &person.org)?;
                for mut entry in person.entries {
                    entry.set_contact(id);
                    bulk.add_entry(entry)?;
                }
            }
            Ok(())
        })
        .expect("demo data");
    store
}

fn driver(store: Store) -> Driver {
    let keymap = Keymap::load(Some("default"), None).expect("default keymap");
    Driver::new(store, keymap, At::from_millis(NOW), 120, 40)
}

fn screen(d: &mut Driver, width: u16, height: u16, support: ColorSupport) -> String {
    d.send(Msg::Resize(width, height));
    let theme = Theme::load("default", None, support).expect("theme");
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|frame| view(frame, &d.state, &theme, &d.keymap))
        .expect("draw");
    terminal.backend().to_string()
}

#[test]
fn dashboard_snapshots() {
    let mut d = driver(demo_store(300));
    d.keys("A");
    assert_eq!(d.state.screen, Screen::Dashboard);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("dashboard_{w}x{h}"),
            screen(&mut d, w, h, ColorSupport::TrueColor)
        );
    }
    // Without colour every figure is still there as text: the same characters.
    assert_eq!(
        screen(&mut d, 80, 24, ColorSupport::None),
        screen(&mut d, 80, 24, ColorSupport::TrueColor)
    );
    d.keys("esc");
    assert_eq!(d.state.screen, Screen::Main);
}

#[test]
fn the_dashboard_shows_the_reports_numbers() {
    let store = demo_store(300);
    let as_of = At::from_millis(NOW).local_day();
    let rfm = reports::rfm(
        &store,
        &reports::RfmOptions {
            as_of: Some(as_of),
            ..Default::default()
        },
    )
    .unwrap();
    let mut d = driver(store);
    d.keys("A");
    let dash = d.state.dashboard.as_deref().expect("loaded");
    assert_eq!(dash.grid, rfm.grid);
    assert_eq!(dash.customers, rfm.customers);
    assert!(dash.customers > 100, "{}", dash.customers);
    assert!(!dash.months.is_empty() && !dash.top_customers.is_empty());
    assert!(dash.churn_risk.iter().all(|c| c.p_alive < 0.5));
    let text = screen(&mut d, 120, 40, ColorSupport::None);
    assert!(
        text.contains(&format!("{} customers", rfm.customers)),
        "{text}"
    );
    // The busiest cell's count is printed.
    let max = rfm.grid.iter().flatten().max().unwrap();
    assert!(text.contains(&max.to_string()));
}

#[test]
fn an_empty_database_says_how_to_get_data() {
    let mut d = driver(Store::in_memory().unwrap());
    d.keys("A");
    let text = screen(&mut d, 80, 24, ColorSupport::TrueColor);
    assert!(text.contains("No purchases yet"), "{text}");
}
