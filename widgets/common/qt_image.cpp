#include "widgets/common/qt_image.h"

namespace animerun::widgets {

QImage ToQImage(const cv::Mat& mat) {
  if (mat.empty() || mat.depth() != CV_8U) return QImage();
  if (mat.channels() == 3) {
    QImage img(mat.data, mat.cols, mat.rows, static_cast<qsizetype>(mat.step), QImage::Format_RGB888);
    return img.copy();
  }
  if (mat.channels() == 1) {
    QImage img(mat.data, mat.cols, mat.rows, static_cast<qsizetype>(mat.step), QImage::Format_Grayscale8);
    return img.copy();
  }
  return QImage();
}

}  // namespace animerun::widgets
