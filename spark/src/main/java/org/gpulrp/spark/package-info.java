/**
 * gpulrp on Spark: {@link org.gpulrp.spark.SparkLrp#explain} adds relevance columns to a DataFrame, configured by
 * {@link org.gpulrp.spark.LrpConfig}; {@link org.gpulrp.spark.ExplainJob} is a ready-made job for spark-submit.
 */
package org.gpulrp.spark;
