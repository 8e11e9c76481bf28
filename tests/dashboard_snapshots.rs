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

// --- keyboard focus and drill-down -----------------------------------------------------------

use rolo::analytics::summary::utc_day;
use rolo::domain::Entry;
use rolo::tui::command::Command;
use rolo::tui::state::{DashboardPanel, Pane};
use std::collections::BTreeSet;

/// The contacts with a purchase line passing `keep`, from the store's timeline.
fn buyers(d: &Driver, keep: impl Fn(&rolo::domain::Purchase) -> bool) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    d.store
        .for_each_entry(|e| {
            if let Entry::Purchase(p) = e
                && keep(&p)
            {
                out.insert(p.contact);
            }
            true
        })
        .expect("timeline");
    out
}

/// The list as shown: its filter's query and its ids.
fn filtered(d: &Driver) -> (String, Vec<u64>) {
    let filter = d.state.list.filter.as_ref().expect("a filtered list");
    (filter.query.clone(), d.state.list.ids.clone())
}

fn dashboard() -> Driver {
    let mut d = driver(demo_store(300));
    d.keys("A");
    assert!(d.state.dashboard.is_some());
    d
}

#[test]
fn focus_moves_over_panels_and_is_marked_without_colour() {
    let mut d = dashboard();
    assert_eq!(d.state.dashboard_focus.panel, DashboardPanel::Grid);
    // Across the grid's cells, then off its right edge into the next panel.
    d.command(Command::MoveRight);
    d.command(Command::MoveDown);
    assert_eq!(
        (d.state.dashboard_focus.row, d.state.dashboard_focus.col),
        (1, 1)
    );
    d.keys("l l l l");
    assert_eq!(
        d.state.dashboard_focus.panel,
        DashboardPanel::Months,
        "beside the grid"
    );
    d.keys("l");
    assert_eq!(d.state.dashboard_focus.panel, DashboardPanel::Customers);
    d.keys("h h");
    assert_eq!(d.state.dashboard_focus.panel, DashboardPanel::Grid);
    d.command(Command::NextPanel);
    assert_eq!(d.state.dashboard_focus.panel, DashboardPanel::Segments);
    d.command(Command::MoveUp);
    assert_eq!(
        d.state.dashboard_focus.panel,
        DashboardPanel::Grid,
        "up from the list's top"
    );
    for panel in [
        DashboardPanel::Segments,
        DashboardPanel::Months,
        DashboardPanel::Customers,
        DashboardPanel::Products,
        DashboardPanel::Risk,
        DashboardPanel::Grid,
    ] {
        d.command(Command::NextPanel);
        assert_eq!(d.state.dashboard_focus.panel, panel);
    }
    // The second month shown, focused: snapshots, then the same text without colour.
    d.keys("tab tab j");
    assert_eq!(d.state.dashboard_focus.panel, DashboardPanel::Months);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("dashboard_month_focused_{w}x{h}"),
            screen(&mut d, w, h, ColorSupport::TrueColor)
        );
        assert_eq!(
            screen(&mut d, w, h, ColorSupport::None),
            screen(&mut d, w, h, ColorSupport::TrueColor)
        );
    }
    // Without colour the focused row is reversed from its marker on.
    let theme = Theme::load("default", None, ColorSupport::None).expect("theme");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    d.send(Msg::Resize(80, 24));
    terminal
        .draw(|frame| view(frame, &d.state, &theme, &d.keymap))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    let marked: Vec<(u16, u16)> = (0..24)
        .flat_map(|y| (44..80).map(move |x| (x, y)))
        .filter(|&(x, y)| buffer[(x, y)].symbol() == ">")
        .collect();
    assert_eq!(marked.len(), 1, "one marker");
    let (x, y) = marked[0];
    for x in x..x + 8 {
        assert!(
            buffer[(x, y)]
                .modifier
                .contains(ratatui::style::Modifier::REVERSED),
            "column {x}"
        );
    }
}

#[test]
fn enter_on_a_grid_cell_or_segment_lists_exactly_its_customers() {
    let mut d = dashboard();
    let dash = d.state.dashboard.clone().expect("figures");
    let everyone = d.state.list.ids.clone();
    // R5 × F5.
    d.keys("l l l l enter");
    assert_eq!(d.state.screen, Screen::Main);
    assert_eq!(d.state.focus, Pane::List);
    let (query, ids) = filtered(&d);
    assert_eq!(query, "r:5 f:5");
    assert_eq!(ids.len() as u64, dash.grid[0][4]);
    // In the list's own (name) order.
    let order: Vec<u64> = everyone
        .iter()
        .copied()
        .filter(|id| ids.contains(id))
        .collect();
    assert_eq!(ids, order);
    insta::assert_snapshot!(
        "dashboard_drill_cell_120x40",
        screen(&mut d, 120, 40, ColorSupport::TrueColor)
    );
    // esc: everyone again; back on the dashboard, the focus is where it was.
    d.keys("esc");
    assert!(d.state.list.filter.is_none());
    assert_eq!(d.state.list.ids, everyone);
    d.keys("A");
    assert_eq!(
        (d.state.dashboard_focus.row, d.state.dashboard_focus.col),
        (0, 4)
    );
    // Down off R1 into the segment list: the largest segment first.
    d.keys("j j j j j enter");
    let largest = dash
        .segments
        .iter()
        .max_by_key(|s| (s.customers, std::cmp::Reverse(s.segment)))
        .expect("a segment");
    let (query, ids) = filtered(&d);
    assert_eq!(
        query,
        format!("rfm:{}", largest.segment.key().replace('_', "-"))
    );
    assert_eq!(ids.len() as u64, largest.customers);
}

#[test]
fn enter_on_a_month_or_product_lists_its_buyers() {
    let mut d = dashboard();
    let dash = d.state.dashboard.clone().expect("figures");
    d.command(Command::NextPanel);
    d.command(Command::NextPanel);
    d.command(Command::Last);
    d.command(Command::Open);
    let month = dash.months.last().expect("months").month.clone();
    let (query, ids) = filtered(&d);
    assert_eq!(query, format!("month:{month}"));
    let expected = buyers(&d, |p| {
        rolo::analytics::month_key(utc_day(p.at.millis())) == month
    });
    assert_eq!(ids.iter().copied().collect::<BTreeSet<_>>(), expected);

    // Back on the dashboard the focus is still on the month; the products are two panels on.
    d.keys("A");
    assert_eq!(d.state.dashboard_focus.panel, DashboardPanel::Months);
    d.command(Command::NextPanel);
    d.command(Command::NextPanel);
    assert_eq!(d.state.dashboard_focus.panel, DashboardPanel::Products);
    d.command(Command::Open);
    let product = dash.top_products[0].0.clone();
    let (query, ids) = filtered(&d);
    assert_eq!(query, format!("bought:\"{product}\""));
    let expected = buyers(&d, |p| p.product == product);
    assert_eq!(ids.iter().copied().collect::<BTreeSet<_>>(), expected);
}

#[test]
fn enter_on_a_customer_opens_their_detail_with_rfm() {
    let mut d = dashboard();
    let dash = d.state.dashboard.clone().expect("figures");
    d.keys("tab tab tab");
    assert_eq!(d.state.dashboard_focus.panel, DashboardPanel::Customers);
    d.keys("j enter");
    assert_eq!(d.state.screen, Screen::Main);
    assert_eq!(d.state.focus, Pane::Detail);
    assert_eq!(d.state.list.selected_id(), Some(dash.top_customers[1].0));
    let card = d
        .state
        .selected_detail()
        .and_then(|v| v.customer.clone())
        .expect("customer figures");
    let text = screen(&mut d, 120, 40, ColorSupport::None);
    assert!(
        text.contains(&format!("R{} F{} M{}", card.rfm.r, card.rfm.f, card.rfm.m)),
        "{text}"
    );
    assert!(text.contains("P(alive)"), "{text}");
    // The churn-risk list's first row.
    d.keys("A");
    d.keys("l");
    assert_eq!(d.state.dashboard_focus.panel, DashboardPanel::Risk);
    d.command(Command::Open);
    assert_eq!(d.state.list.selected_id(), Some(dash.churn_risk[0].contact));
}
