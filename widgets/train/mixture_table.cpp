#include "widgets/train/mixture_table.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <climits>

#include "core/data/flow_datasets.h"
#include "widgets/common/qt_jobs.h"

namespace animerun::widgets {

namespace {

enum Column { kKind, kFolder, kRepeat, kPairs, kFound, kColumns };

QString Q(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

MixtureTable::MixtureTable(QWidget* parent)
    : QWidget(parent), controller_(std::make_unique<train::MixtureController>(QtPost())) {
  setObjectName("mixture_table");
  table_ = new QTableWidget(0, kColumns, this);
  table_->setObjectName("mixture_rows");
  table_->setHorizontalHeaderLabels({tr("Kind"), tr("Folder"), tr("Repeat"), tr("Pairs"), tr("Resolution / problem")});
  // The folder takes what is left; the others fit their contents (a problem's full text is
  // in its tooltip).
  QHeaderView* header = table_->horizontalHeader();
  header->setSectionResizeMode(QHeaderView::ResizeToContents);
  header->setSectionResizeMode(kFolder, QHeaderView::Stretch);
  header->setMinimumSectionSize(40);
  table_->verticalHeader()->setVisible(false);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setMinimumHeight(110);
  table_->setToolTip(tr("Training pairs are drawn from every dataset, each repeated by its factor\n"
                        "(the AnimeRun recipe: anime x200 mixed with FlyingThings3D x1)"));
  auto* add = new QPushButton(tr("Add..."), this);
  add->setToolTip(tr("Add a dataset folder (AnimeRun, FlyingThings3D, MPI-Sintel, Creative Flow+)\n"
                     "or a pairs list (.txt/.json lines of img1 img2 flow [valid])"));
  auto* remove = new QPushButton(tr("Remove"), this);
  check_ = new QPushButton(tr("Check"), this);
  check_->setObjectName("mixture_check");
  check_->setToolTip(tr("Index every dataset and check its files (what training does before it starts)"));
  status_ = new QLabel(this);
  status_->setObjectName("mixture_status");
  status_->setWordWrap(true);

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add);
  buttons->addWidget(remove);
  buttons->addWidget(check_);
  buttons->addWidget(status_, 1);
  auto* l = new QVBoxLayout(this);
  l->setContentsMargins(0, 0, 0, 0);
  l->addWidget(new QLabel(tr("Datasets"), this));
  l->addWidget(table_, 1);
  l->addLayout(buttons);

  connect(add, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Dataset folder"));
    if (!dir.isEmpty()) addPath(dir);
  });
  connect(remove, &QPushButton::clicked, this, [this] { controller_->Remove(table_->currentRow()); });
  connect(check_, &QPushButton::clicked, this, &MixtureTable::check);
  controller_->Observe([this](train::MixtureController::Event e) { OnEvent(e); });
  Rebuild();
}

MixtureTable::~MixtureTable() = default;

QString MixtureTable::scanStatus() const { return status_->text(); }

void MixtureTable::addPath(const QString& path) { controller_->AddPath(path.toStdString()); }

void MixtureTable::check() { controller_->Scan(); }

void MixtureTable::OnEvent(train::MixtureController::Event e) {
  switch (e) {
    case train::MixtureController::Event::kRows:
      Rebuild();
      emit specChanged(Q(controller_->Spec()));
      break;
    case train::MixtureController::Event::kScan:
      status_->setText(Q(controller_->ScanStatus()));
      check_->setEnabled(!controller_->Scanning());
      if (!controller_->Scanning()) emit scanFinished();
      break;
    case train::MixtureController::Event::kError: status_->setText(Q(controller_->LastError())); break;
  }
}

void MixtureTable::Rebuild() {
  rebuilding_ = true;
  const auto& rows = controller_->rows();
  table_->setRowCount(static_cast<int>(rows.size()));
  for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
    const train::MixtureRow& r = rows[static_cast<size_t>(i)];
    auto* kind = new QComboBox;
    for (const auto& k : data::FlowSetKinds()) kind->addItem(Q(k));
    kind->setCurrentText(Q(r.kind));
    connect(kind, &QComboBox::currentTextChanged, this,
            [this, i](const QString& k) { controller_->SetKind(i, k.toStdString()); });
    table_->setCellWidget(i, kKind, kind);

    auto* folder = new QLineEdit(Q(r.path));
    folder->setMinimumWidth(120);
    // An empty folder reads the option of its kind (data, things_root, ...): shown greyed.
    folder->setPlaceholderText(Q(controller_->RootOf(i).empty() ? std::string("(choose a folder)")
                                                                 : controller_->RootOf(i)));
    connect(folder, &QLineEdit::editingFinished, this, [this, i, folder] {
      if (folder->text().toStdString() != controller_->rows()[static_cast<size_t>(i)].path)
        controller_->SetPath(i, folder->text().toStdString());
    });
    table_->setCellWidget(i, kFolder, folder);

    auto* repeat = new QSpinBox;
    repeat->setRange(1, 100000);
    repeat->setValue(r.repeat);
    connect(repeat, &QSpinBox::valueChanged, this, [this, i](int v) { controller_->SetRepeat(i, v); });
    table_->setCellWidget(i, kRepeat, repeat);

    auto* pairs = new QTableWidgetItem(r.scanned && r.problem.empty() ? QString::number(r.pairs) : QString());
    pairs->setFlags(Qt::ItemIsEnabled);
    pairs->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    table_->setItem(i, kPairs, pairs);
    auto* found = new QTableWidgetItem(!r.scanned ? tr("not checked") : r.problem.empty() ? Q(r.sizes) : Q(r.problem));
    found->setFlags(Qt::ItemIsEnabled);
    found->setToolTip(Q(r.root + (r.problem.empty() ? std::string() : "\n" + r.problem)));
    if (r.scanned && !r.problem.empty()) found->setForeground(QColor(190, 30, 30));
    table_->setItem(i, kFound, found);
  }
  rebuilding_ = false;
}

}  // namespace animerun::widgets
