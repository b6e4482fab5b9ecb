# GSVA (R) ssGSEA timing for benchmarks/bench_bulk.py.
# Rscript gsva_ssgsea.R <stem> <sets.tsv> <scores.csv> <repeats>
# <stem>.f64: float64 genes x samples in column-major order; <stem>.genes.txt: one gene a line.
# Prints one line: the elapsed seconds of each repeat of system.time(gsva(...)).
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(GSVA))
genes <- readLines(paste0(args[1], ".genes.txt"))
path <- paste0(args[1], ".f64")
n_values <- file.size(path) / 8
x <- matrix(readBin(path, "double", n = n_values), nrow = length(genes))
dimnames(x) <- list(genes, paste0("S", seq_len(ncol(x)) - 1))
table <- read.delim(args[2], header = FALSE, col.names = c("set", "gene"))
sets <- split(table$gene, factor(table$set, levels = unique(table$set)))
times <- numeric(0)
for (i in seq_len(as.integer(args[4]))) {
  elapsed <- system.time(scores <- gsva(x, sets, method = "ssgsea", verbose = FALSE))
  times <- c(times, elapsed[["elapsed"]])
}
write.csv(scores, args[3])
cat("seconds:", times, "\n")
